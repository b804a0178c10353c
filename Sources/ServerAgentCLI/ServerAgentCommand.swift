import ArgumentParser
import Logging
import MusterBase
import Registry
import ServerAgent

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `server-agent`: health-checks one ChatServer and keeps it registered in ZooKeeper while healthy.
@main
struct ServerAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server-agent",
        abstract: "Health-check a ChatServer and keep it registered in ZooKeeper while it is healthy.",
        discussion: """
            Registers <path>/members/<id> as an ephemeral znode after --rise healthy checks and deletes it after \
            --fall failed ones. SIGTERM/SIGINT delete the node, then exit. The drain signal (default \
            SIGUSR1) toggles "draining" in the record. Supervisor mode: server-agent [options] -- CMD ARGS... \
            runs the server as a child, deregisters the moment it exits, forwards SIGTERM to it only \
            after deregistering, and exits with its status. ZooKeeper digest credentials come from \
            --auth-file or $MUSTER_ZK_AUTH_FILE (a file holding user:password), never from argv.
            """
    )

    static let authFileEnvironmentVariable = "MUSTER_ZK_AUTH_FILE"

    @Option(name: .long, help: ArgumentHelp("ZooKeeper connection string.", valueName: "HOSTS"))
    var zookeeper = AgentOptions().zookeeper

    @Option(name: .long, help: ArgumentHelp("Service path; the member node is <path>/members/<id>.", valueName: "P"))
    var path = AgentOptions().path

    @Option(name: .long, help: ArgumentHelp("The ChatServer to health-check.", valueName: "HOST:PORT"))
    var server: String?

    @Option(name: .long, help: ArgumentHelp("Address balancers should dial (default: --server).", valueName: "HOST:PORT"))
    var advertise: String?

    @Option(name: .long, help: ArgumentHelp("Member id / znode name (default: advertised host-port, e.g. 127.0.0.1-6000).", valueName: "ID"))
    var id: String?

    @Option(name: .long, help: ArgumentHelp("Balancing weight, >= 1.", valueName: "N"))
    var weight = AgentOptions().weight

    @Option(name: .long, help: ArgumentHelp("Metadata for the record (repeatable).", valueName: "key=value"))
    var meta: [String] = []

    @Option(name: .long, help: ArgumentHelp("ZooKeeper session timeout; bounds detection when the agent's host dies.", valueName: "DURATION"))
    var sessionTimeout = AgentOptions().sessionTimeout

    @Option(name: .long, help: ArgumentHelp("File holding ZooKeeper digest credentials user:password (or $MUSTER_ZK_AUTH_FILE).", valueName: "FILE"))
    var authFile: String?

    @OptionGroup(title: "Health check") var check: HealthCheckOptions

    @Option(name: .long, help: ArgumentHelp("Signal toggling 'draining' in the record: USR1, USR2, HUP or none.", valueName: "SIGNAL"))
    var drainSignal = AgentOptions().drainSignal

    @Option(name: .long, help: ArgumentHelp("Supervisor mode: time between SIGTERM and SIGKILL for the child.", valueName: "DURATION"))
    var stopTimeout = AgentOptions().stopTimeout

    @Option(name: .long, help: ArgumentHelp("On deregistering, how long the record says 'leaving' before the node is deleted (0 = at once).", valueName: "DURATION"))
    var leaveGrace = AgentOptions().leaveGrace

    @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "LEVEL"))
    var logLevel = "info"

    @Argument(parsing: .postTerminator, help: ArgumentHelp("Supervisor mode: the server command after --.", valueName: "CMD"))
    var command: [String] = []

    var options: AgentOptions {
        var options = AgentOptions()
        options.zookeeper = zookeeper
        options.path = path
        options.server = server
        options.advertise = advertise
        options.id = id
        options.weight = weight
        options.meta = meta
        options.sessionTimeout = sessionTimeout
        options.authFile = authFile ?? Self.environment(Self.authFileEnvironmentVariable)
        check.apply(to: &options)
        options.drainSignal = drainSignal
        options.stopTimeout = stopTimeout
        options.leaveGrace = leaveGrace
        options.command = command
        return options
    }

    func validate() throws {
        do {
            _ = try AgentConfiguration(options)
        } catch {
            throw ValidationError(error.description)
        }
        guard Logger.Level(rawValue: logLevel.lowercased()) != nil else {
            throw ValidationError("--log-level: unknown level '\(logLevel)'")
        }
        if let file = options.authFile {
            // Loaded here only to reject a bad file with status 2; the error never shows the content.
            do {
                _ = try DigestCredentials.load(fromFile: file)
            } catch {
                throw ValidationError("--auth-file: \(error)")
            }
        }
    }

    func run() async throws {
        let configuration = try AgentConfiguration(options)
        let level = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "server-agent")
        var credentials: DigestCredentials?
        if let file = configuration.authFile {
            do {
                credentials = try DigestCredentials.load(fromFile: file)
            } catch {
                // The error names the file, never its content.
                logger.critical("cannot load ZooKeeper credentials", metadata: [LogKey.authFile: "\(file)", LogKey.error: "\(error)"])
                throw ExitCode(2)
            }
        }
        let code = try await ServerAgent(configuration: configuration, credentials: credentials, logger: logger).run()
        if code != 0 { throw ExitCode(code) }
    }

    /// Parse errors and `validate()` failures exit with 2, like other Unix tools, instead of
    /// ArgumentParser's default 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                writeToStandardError(fullMessage(for: error) + "\n")
                exitProcess(2)
            }
            exit(withError: error)
        }
    }

    static func writeToStandardError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    static func exitProcess(_ code: Int32) -> Never {
        #if canImport(Glibc)
        Glibc.exit(code)
        #elseif canImport(Musl)
        Musl.exit(code)
        #else
        Darwin.exit(code)
        #endif
    }

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}
