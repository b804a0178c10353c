import ArgumentParser
import Balancer
import SystemLimits

/// `balancer check --config FILE`: validate like `nginx -t`.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config file and exit (like nginx -t); errors name file:line:column."
    )

    @Option(name: .long, help: "The config file (nginx stream {} syntax).")
    var config: String

    @OptionGroup var placement: ConfigPlacement

    func run() async throws {
        do {
            // Like `nginx -t`, check resolves every `server` host name (blocking is fine here).
            let configuration = try BalancerConfiguration.load(self.placement.source(config: self.config)).resolvingServerNames()
            for warning in configuration.warnings {
                printError("balancer: warning: \(warning)")
            }
            if let cap = ListenQueueLimit.current() {
                for warning in configuration.listenQueueWarnings(cap: cap) {
                    printError("balancer: warning: \(warning)")
                }
            }
        } catch {
            printError("balancer: \(error)")
            printError("balancer: configuration file \(self.config) test failed")
            throw ExitCode(1)
        }
        print("balancer: the configuration file \(self.config) syntax is ok")
        print("balancer: configuration file \(self.config) test is successful")
    }
}
