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
            SIGTERM/SIGINT: stop accepting, drain up to --drain-timeout, exit. SIGHUP: reload --config.
            """
    )

    @Option(name: .long, help: "Config file (nginx stream {} syntax).")
    var config: String?

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
        let logger = self.logOptions.makeLogger()
        let configuration: BalancerConfiguration
        if let config = self.config {
            do {
                configuration = try BalancerConfiguration.load(path: config)
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

        let openFiles = Int(clamping: OpenFileLimit.raise().soft)
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
        let reload = ReloadOnHangup(balancer: balancer, configPath: self.config, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: balancer),
                    .init(service: reload),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch {
            printError("balancer: \(error)")
            throw ExitCode(1)
        }
    }
}
