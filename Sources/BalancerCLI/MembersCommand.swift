import ArgumentParser
import Balancer
import Logging
import MusterBase
import MusterCLI
import Registry

/// `balancer members`: what a running balancer sees (its admin endpoint), or with `--zookeeper`
/// what the registry holds.
struct MembersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "Print the members of a running balancer (or, with --zookeeper, of the registry).",
        discussion: """
            Default: asks the balancer's admin endpoint (--admin, default 127.0.0.1:8001).
            With --zookeeper HOSTS --path P: reads the registry directly (no balancer needed).
            """
    )

    @Option(name: .long, help: "Admin endpoint of the running balancer.")
    var admin: String = BalancerConfiguration.defaultAdmin.description

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    /// With `--zookeeper`: read the registry directly.
    @OptionGroup var registry: RegistryOptions

    @Option(name: .long, help: "How long to wait for an answer.", transform: DurationArgument.parse)
    var timeout = DurationArgument(.seconds(5))

    /// The admin endpoint to ask: `run --admin`'s form, but a name is fine here, since it is dialled.
    static let adminForm = Endpoint.Form(hosts: .dialable, defaultHost: BalancerConfiguration.defaultAdminHost)

    func validate() throws {
        do { _ = try Endpoint.parse(self.admin, Self.adminForm) } catch {
            throw ValidationError("bad --admin: \(error)")
        }
        if (self.registry.zookeeper == nil) != (self.registry.path == nil) {
            throw ValidationError("--zookeeper and --path go together")
        }
        if self.registry.authFile != nil, self.registry.zookeeper == nil {
            throw ValidationError("--auth-file needs --zookeeper and --path")
        }
    }

    func run() async throws {
        do {
            if let zookeeper = self.registry.zookeeper, let servicePath = self.registry.path {
                let path = ServicePath.members(of: servicePath)
                var logger = Logger(label: "balancer")
                logger.logLevel = .error
                let records = try await RegistryMembers.read(
                    connectString: zookeeper, path: path, authFile: self.registry.authFile, timeout: self.timeout.duration,
                    logger: logger)
                if self.json {
                    print(try RegistryMembers.json(records, connectString: zookeeper, path: path))
                } else {
                    print(RegistryMembers.render(records, connectString: zookeeper, path: path), terminator: "")
                }
                return
            }
            let address = try Endpoint.parse(self.admin, Self.adminForm)
            let report = try await AdminClient.members(from: address, timeout: self.timeout.duration)
            if self.json {
                print(try AdminClient.json(report))
            } else {
                print(MembersTable.render(report), terminator: "")
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("balancer: \(error)")
            throw ExitCode(1)
        }
    }
}
