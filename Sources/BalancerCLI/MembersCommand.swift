import ArgumentParser
import Balancer

/// `balancer members`: what a running balancer sees (from its admin endpoint).
struct MembersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "Print the members of a running balancer (or, with --zookeeper, of the registry)."
    )

    @Option(name: .long, help: "Admin endpoint of the running balancer.")
    var admin: String = BalancerService.defaultAdminAddress

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard HostPort(parsing: self.admin) != nil else {
            throw ValidationError("bad --admin '\(self.admin)': expected host:port, e.g. 127.0.0.1:8001")
        }
    }

    func run() async throws {
        guard let address = HostPort(parsing: self.admin) else { throw ExitCode(2) }
        do {
            let report = try await AdminClient.members(from: address)
            print(self.json ? try AdminClient.json(report) : MembersTable.render(report), terminator: self.json ? "\n" : "")
        } catch {
            printError("balancer: \(error)")
            throw ExitCode(1)
        }
    }
}
