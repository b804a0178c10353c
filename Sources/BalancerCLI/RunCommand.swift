#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Balancer
import Logging
import MusterBase
import MusterCLI
import Registry
import ServiceLifecycle
import SystemLimits

/// `balancer run`: from a config file, or the quick start with one listener and one ZooKeeper path.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the balancer.",
        discussion: """
            Either --config FILE, or the quick start: --listen ADDR --zookeeper HOSTS --path P [--auth-file F].
            SIGTERM/SIGINT/SIGQUIT: stop accepting, drain up to --drain-timeout, exit. SIGHUP: reload --config.
            SIGUSR1: reopen the log files (logrotate).
            """
    )

    @Option(name: .long, help: "Config file (nginx stream {} syntax).")
    var config: String?

    @OptionGroup var placement: ConfigPlacement

    @Option(name: .customLong("error-log"), help: "The balancer's log file (or stderr) at --log-level when the config has no main error_log (nginx's -e).")
    var errorLog: String?

    @Option(name: .long, help: "Quick start: listen address, e.g. 0.0.0.0:8000.")
    var listen: String?

    /// Quick start: the registry the one upstream group follows.
    @OptionGroup var registry: RegistryOptions

    @Option(name: .long, help: "Admin endpoint address (overrides the config's admin directive; default 127.0.0.1:8001).")
    var admin: String?

    @Option(
        name: .customLong("drain-timeout"), help: "How long SIGTERM waits for open connections (30, 30s, 500ms, 2m).",
        transform: DurationArgument.parse)
    var drainTimeout = DurationArgument(.seconds(30))

    @OptionGroup var logOptions: LogOptions

    func validate() throws {
        let quickStart = self.listen != nil || self.registry.isGiven
        if self.config != nil, quickStart {
            throw ValidationError("--config cannot be combined with --listen/--zookeeper/--path/--auth-file")
        }
        if self.config == nil {
            guard self.listen != nil, self.registry.zookeeper != nil, self.registry.path != nil else {
                throw ValidationError("give --config FILE, or all of --listen ADDR --zookeeper HOSTS --path P")
            }
            if let listen = self.listen {
                do { _ = try Endpoint.parse(listen, .listen) } catch {
                    throw ValidationError("bad --listen: \(error)")
                }
            }
        }
        if let admin = self.admin {
            do { _ = try Endpoint.parse(admin, .adminFlag) } catch {
                throw ValidationError("bad --admin: \(error)")
            }
        }
    }

    /// The nginx release whose `stream` directives and semantics Muster follows.
    static let nginxRelease = "nginx/1.22.1"

    /// `--listen`, by the `listen` directive's rule (an IP address, not a name).
    static func listenAddress(_ text: String) -> Endpoint? {
        try? Endpoint.parse(text, .listen)
    }

    /// The quick start's configuration: one listener, one group fed from ZooKeeper.
    static func quickStart(listen: Endpoint, zookeeper: String, path: String, authFile: String?) -> BalancerConfiguration {
        let upstream = UpstreamConfiguration(
            name: "default",
            zookeeper: ZooKeeperSource(connectString: zookeeper, path: path, authFile: authFile))
        let server = ListenerConfiguration(
            listenHost: listen.host, listenPort: listen.port, proxyPass: upstream.name, connectTimeout: .seconds(1))
        var configuration = BalancerConfiguration(upstreams: [upstream], listeners: [server])
        configuration.listenOrigins[server.listenAddress.description] = "--listen"
        return configuration
    }

    func run() async throws {
        let configuration: BalancerConfiguration
        let source = self.config.map { self.placement.source(config: $0) }
        if let source {
            do {
                configuration = try BalancerConfiguration.load(source)
            } catch {
                printError("balancer: \(error)")
                throw ExitCode(1)
            }
        } else if let listenText = self.listen, let listen = Self.listenAddress(listenText),
            let zookeeper = self.registry.zookeeper, let path = self.registry.path
        {
            configuration = Self.quickStart(listen: listen, zookeeper: zookeeper, path: path, authFile: self.registry.authFile)
        } else {
            throw ValidationError("give --config FILE, or all of --listen ADDR --zookeeper HOSTS --path P")
        }
        let errorLogs: ErrorLogFiles
        do {
            errorLogs = try ErrorLogFiles(self.errorLogTargets(configuration))
        } catch {
            printError("balancer: \(error)")
            throw ExitCode(1)
        }
        let logger = self.logOptions.makeLogger(errorLogs: errorLogs)
        // nginx's first message names its release; this one names the release whose stream module
        // Muster follows (deploy/nginx-shim's -v answers the same), for tools that look for it.
        logger.notice("balancer starting", metadata: ["follows": "\(Self.nginxRelease)"])

        if let limit = configuration.openFileLimit {
            if let problem = OpenFileLimit.set(limit) {
                logger.warning(
                    "worker_rlimit_nofile could not be set; the limit in force stays",
                    metadata: [LogKey.openFiles: "\(limit)", LogKey.error: "\(problem)"])
            }
        }
        let openFiles = Int(clamping: configuration.openFileLimit == nil ? OpenFileLimit.raise().soft : OpenFileLimit.current().soft)
        // Each client costs two descriptors (its socket and its member's), plus a few of our own.
        if let workers = configuration.workerConnections, workers > (openFiles - 64) / 2 {
            logger.warning(
                "worker_connections allows more clients than the open-files limit can hold; that limit applies first",
                metadata: [LogKey.workerConnections: "\(workers)", LogKey.openFiles: "\(openFiles)"])
        }
        if let cap = ListenQueueLimit.current() {
            for warning in configuration.listenQueueWarnings(cap: cap) {
                logger.warning(
                    "listen backlog is above net.core.somaxconn; the kernel queues fewer waiting clients",
                    metadata: [LogKey.listen: "\(warning.listen)", "backlog": "\(warning.backlog)", "somaxconn": "\(warning.cap)"])
            }
        }
        if openFiles < 4096 {
            logger.warning(
                "open-files limit is low: each client uses two descriptors",
                metadata: [LogKey.openFiles: "\(openFiles)"])
        }
        let balancer = BalancerService(
            configuration: configuration,
            options: .init(adminAddress: self.admin, drainTimeout: self.drainTimeout.duration),
            logger: logger)
        let userSwitch = try self.userSwitch(configuration, logger: logger)
        let reload = ReloadOnHangup(balancer: balancer, source: source, logger: logger)
        let reopen = ReopenOnUser1(logs: [errorLogs, balancer], logger: logger)
        let started = AfterBinding(
            balancer: balancer, pidFile: configuration.pidFile, userSwitch: userSwitch, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: balancer),
                    .init(service: reload),
                    .init(service: reopen),
                    // Its work done (or starting failed), it ends without ending the others.
                    .init(service: started, successTerminationBehavior: .ignore),
                ],
                // SIGQUIT is nginx's graceful stop (nginx-tests send it), here the same drain as SIGTERM.
                gracefulShutdownSignals: [.sigterm, .sigint, .sigquit],
                logger: logger))
        var failed = false
        do {
            try await group.run()
        } catch {
            printError("balancer: \(error)")
            failed = true
        }
        if let pidFile = configuration.pidFile, let problem = PidFile.remove(pidFile) {
            logger.warning("pid file not removed", metadata: [LogKey.error: "\(problem)"])
        }
        if failed { throw ExitCode(1) }
    }

    /// The main `error_log` lines, else `--error-log` at `--log-level`; empty: stderr at `--log-level`.
    private func errorLogTargets(
        _ configuration: BalancerConfiguration
    ) -> [(destination: ErrorLogConfiguration.Destination, level: Logger.Level)] {
        if !configuration.errorLogs.isEmpty {
            return configuration.errorLogs.map { (destination: $0.destination, level: Logger.Level($0.level)) }
        }
        guard let errorLog = self.errorLog else { return [] }
        let destination: ErrorLogConfiguration.Destination =
            errorLog == "stderr" ? .standardError : .file(ConfigSource.resolve(errorLog, prefix: self.placement.prefix))
        return [(destination: destination, level: self.logOptions.level)]
    }

    /// `user`: looked up now (a missing account stops the start), applied after binding; ignored
    /// with a warning when not root, as nginx does.
    private func userSwitch(_ configuration: BalancerConfiguration, logger: Logger) throws -> UserSwitch? {
        guard let user = configuration.user else { return nil }
        guard geteuid() == 0 else {
            logger.warning("the \"user\" directive makes sense only if the balancer starts as root; ignored", metadata: ["origin": "\(user.origin)"])
            return nil
        }
        do {
            return try UserSwitch(user)
        } catch {
            printError("balancer: \(error)")
            throw ExitCode(1)
        }
    }
}
