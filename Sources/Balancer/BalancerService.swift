import Foundation
import Logging
import Metrics
import MusterBase
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// The balancer process as a `Service`: listeners, upstream pools, registry feeds and the admin endpoint.
///
/// Graceful shutdown stops accepting, lets connections finish up to `drainTimeout`, then closes the
/// rest. `reload(_:)` applies a new configuration without touching established connections.
public final class BalancerService: Service, Sendable {
    /// Settings that do not come from the config file.
    public struct Options: Sendable {
        /// Overrides the config's `admin` directive (`run --admin`'s form, ``MusterBase/Endpoint/Form/adminFlag``);
        /// nil = the directive, else ``BalancerConfiguration/defaultAdmin``.
        public var adminAddress: String?
        /// How long a graceful shutdown waits for open connections before closing them.
        public var drainTimeout: Duration
        /// Data-path workers (threads); nil = the config's `worker_processes`, else one per core.
        public var eventLoopThreads: Int?

        public init(
            adminAddress: String? = nil,
            drainTimeout: Duration = .seconds(30),
            eventLoopThreads: Int? = nil
        ) {
            self.adminAddress = adminAddress
            self.drainTimeout = drainTimeout
            self.eventLoopThreads = eventLoopThreads
        }
    }

    /// The registry `/metrics` is rendered from; pass your own to share it with other parts.
    public let metricsRegistry: PrometheusCollectorRegistry
    private let controller: BalancerController
    private let shutdown = OneShot<ShutdownMode>()
    private let started = OneShot<StartOutcome>()
    private let logger: Logger

    public init(
        configuration: BalancerConfiguration,
        options: Options = Options(),
        metricsRegistry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        logger: Logger
    ) {
        self.metricsRegistry = metricsRegistry
        self.logger = logger
        self.controller = BalancerController(
            configuration: configuration,
            options: options,
            metricsFactory: PrometheusMetricsFactory(registry: metricsRegistry),
            logger: logger)
    }

    public func run() async throws {
        // The membership feeds run as children of this task, so none outlives the service.
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.controller.feeds.run() }
            try await self.runController()
        }
    }

    private func runController() async throws {
        let mode: ShutdownMode
        do {
            try await self.controller.start(metricsRegistry: self.metricsRegistry)
            self.started.fire(.running)
            mode = await withTaskCancellationHandler {
                await withGracefulShutdownHandler {
                    await self.shutdown.wait()
                } onGracefulShutdown: {
                    self.shutdown.fire(.drain)
                }
            } onCancel: {
                self.shutdown.fire(.immediate)
            }
        } catch {
            self.started.fire(.failed)
            await self.controller.stop(mode: .immediate)
            throw error
        }
        await self.controller.stop(mode: mode)
    }

    /// Same as a graceful shutdown signal: stop accepting, drain, close.
    public func triggerGracefulShutdown() {
        self.shutdown.fire(.drain)
    }

    /// Waits until the listeners are bound (true) or starting failed (false).
    @discardableResult
    public func waitUntilStarted() async -> Bool {
        await self.started.wait() == .running
    }

    /// Applies a new configuration: new listeners are bound, removed ones stop accepting, changed
    /// upstreams are reconfigured in place. Established connections are untouched. If anything fails
    /// (a port that cannot be bound), nothing changes and the error is thrown.
    public func reload(_ configuration: BalancerConfiguration) async throws {
        try await self.controller.apply(configuration)
    }

    /// Loads `path` and applies it; a bad file is logged with its error and the running config stays.
    @discardableResult
    public func reload(path: String) async -> Bool {
        await reload(source: ConfigSource(path: path))
    }

    /// Loads the config `source` names (with its prefix and `--global` directives) and applies it;
    /// a bad file is logged with its error and the running config stays.
    @discardableResult
    public func reload(source: ConfigSource) async -> Bool {
        let path = source.configPath
        do {
            let configuration = try BalancerConfiguration.load(source)
            try await self.reload(configuration)
            self.logger.notice("configuration reloaded", metadata: [LogKey.config: "\(path)"])
            return true
        } catch {
            self.logger.error(
                "configuration reload rejected; keeping the running configuration",
                metadata: [LogKey.config: "\(path)", LogKey.error: "\(error)"])
            return false
        }
    }

    /// The addresses the listeners are bound to, by configured "host:port" (useful with port 0).
    public func listenerAddresses() async -> [String: SocketAddress] {
        await self.controller.listenerAddresses()
    }

    /// The admin endpoint's bound address, if it is running.
    public func adminAddress() async -> SocketAddress? {
        await self.controller.adminAddress()
    }

    /// What `GET /members` serves.
    public func membersReport() -> MembersReport {
        self.controller.published.withLockedValue { $0 }.report()
    }
}

extension BalancerService: LogReopening {
    /// SIGUSR1: the log files the balancer keeps open (the access logs, the servers' error logs).
    public func reopenLogs() {
        self.controller.accessLogs.reopenLogs()
    }
}
