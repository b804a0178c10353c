import Foundation
import Logging
import Metrics
import MusterBase
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ProxyEngine
import Registry

/// Owns the running parts of a `BalancerService`; start, reload and stop run one at a time here.
/// The data path never touches it: connections read only their listener's `ListenerTarget`.
actor BalancerController {
    private var configuration: BalancerConfiguration
    private let options: BalancerService.Options
    private let metricsFactory: PrometheusMetricsFactory
    private let logger: Logger
    /// The admin endpoint's event loop; proxied connections run on `engine`.
    private let group: MultiThreadedEventLoopGroup
    private let eventLoops: Int
    /// The data path: one epoll worker per `worker_processes`; nil until `start`.
    private var engine: ProxyEngine?
    private let refused: Metrics.Counter
    private let refusedPublished = NIOLockedValueBox(0)
    private let refusedLog = RateLimiter(interval: .seconds(1))
    private var upstreams: [String: UpstreamGroup] = [:]
    private var metrics: [String: GroupMetrics] = [:]
    private var listeners: [String: ProxyListener] = [:]
    /// The membership feeds; `BalancerService.run` hosts them (``MembershipFeeds/run()``).
    let feeds: MembershipFeeds
    private var admin: AdminServer?
    /// The access logs' writer: its thread starts with the first listener that has a log; stopped
    /// (flushed) after the engine closed its connections. Reopened on SIGUSR1 from outside the actor.
    nonisolated let accessLogs: AccessLogWriter
    private var stopped = false
    /// Read by the admin endpoint without going through the actor.
    nonisolated let published = NIOLockedValueBox(PublishedState())

    init(
        configuration: BalancerConfiguration,
        options: BalancerService.Options,
        metricsFactory: PrometheusMetricsFactory,
        logger: Logger
    ) {
        self.configuration = configuration
        self.options = options
        self.metricsFactory = metricsFactory
        self.logger = logger
        self.eventLoops = Self.eventLoopCount(configuration: configuration, options: options)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.refused = Metrics.Counter(label: "balancer_connections_refused_total", factory: metricsFactory)
        self.feeds = MembershipFeeds(logger: logger)
        self.accessLogs = AccessLogWriter(workers: self.eventLoops, metricsFactory: metricsFactory, logger: logger)
    }

    /// The engine workers to run: the option if given, else `worker_processes N`, else one per core
    /// (`worker_processes auto`, nginx's usual setting).
    static func eventLoopCount(configuration: BalancerConfiguration, options: BalancerService.Options) -> Int {
        max(1, options.eventLoopThreads ?? configuration.workerProcesses ?? System.coreCount)
    }

    /// Start, reload and stop suspend (binding, closing); the actor is re-entrant across those
    /// suspensions, so they take turns explicitly.
    private var busy = false
    private var turnWaiters: [CheckedContinuation<Void, Never>] = []

    private func takeTurn() async {
        if self.busy {
            await withCheckedContinuation { self.turnWaiters.append($0) }
        }
        self.busy = true
    }

    private func endTurn() {
        if self.turnWaiters.isEmpty {
            self.busy = false
        } else {
            // Handed over directly: `busy` stays true for the next one.
            self.turnWaiters.removeFirst().resume()
        }
    }

    func start(metricsRegistry: PrometheusCollectorRegistry) async throws {
        await self.takeTurn()
        defer { self.endTurn() }
        if self.engine == nil {
            let engine = try ProxyEngine(workers: self.eventLoops)
            engine.multiAccept = self.configuration.multiAccept
            self.engine = engine
        }
        try await self.apply(self.configuration, initial: true)
        let address: Endpoint
        do {
            if let flag = self.options.adminAddress {
                address = try Endpoint.parse(flag, .adminFlag)
            } else if let directive = self.configuration.admin {
                address = try Endpoint.parse(directive, .admin)
            } else {
                address = BalancerConfiguration.defaultAdmin
            }
        } catch {
            throw BalancerError.badAddress(error.input)
        }
        let published = self.published
        do {
            self.admin = try await AdminServer.bind(
                host: address.host, port: address.port, group: self.group, limits: self.configuration.adminLimits,
                metricsFactory: self.metricsFactory, logger: self.logger
            ) { method, path in
                AdminRoutes.respond(method: method, path: path, state: published.withLockedValue { $0 }, registry: metricsRegistry)
            }
        } catch {
            let origin = self.options.adminAddress != nil ? "--admin" : self.configuration.adminOrigin ?? "the default admin address"
            throw BalancerError.cannotListen(address: address.description, origin: origin, error)
        }
        self.published.withLockedValue { $0.phase = .running }
        self.logger.info(
            "balancer started",
            metadata: [
                LogKey.listeners: "\(self.listeners.keys.sorted().joined(separator: ","))",
                LogKey.admin: "\(address)",
                LogKey.workers: "\(self.eventLoops)",
            ])
    }

    func apply(_ configuration: BalancerConfiguration) async throws {
        await self.takeTurn()
        defer { self.endTurn() }
        try await self.apply(configuration, initial: false)
    }

    /// Carries out ``ReloadPlan``'s steps for `new`. Only the binds can fail, and they come first:
    /// on a failed bind, what this call added (groups, listeners) is taken away again and the
    /// running balancer is as it was.
    private func apply(_ configured: BalancerConfiguration, initial: Bool) async throws {
        guard !self.stopped, let engine = self.engine else { throw BalancerError.stopped }
        // Server names become numeric addresses here, at start and reload, so no worker ever resolves.
        let new = try await configured.resolvedOffTheCooperativePool()
        let failedFeeds = Set(self.upstreams.filter { $0.value.membershipState.error != nil }.keys)
        let steps = try ReloadPlan.steps(
            from: initial ? nil : self.configuration, to: new, failedFeeds: failedFeeds,
            adminFromFlag: self.options.adminAddress != nil)
        // Every access log opens before anything changes, so a file that cannot be opened fails
        // the start or reload with nothing done (as nginx). A queue no route takes is dropped by
        // the writer.
        var sessionLogs: [String: SessionLog] = [:]
        var errorLogs: [String: SessionErrorLog] = [:]
        for server in new.listeners {
            let key = ProxyListener.key(for: server)
            do {
                sessionLogs[key] = try self.accessLogs.sessionLog(for: server.accessLogs, upstream: server.proxyPass)
            } catch {
                throw BalancerError.cannotOpenAccessLog(error)
            }
            do {
                errorLogs[key] = try self.accessLogs.errorLog(
                    for: new.errorLogs(for: server),
                    message: SessionMessage(listen: key, upstream: server.proxyPass, zones: server.edge?.limits.map(\.zone.name) ?? []))
            } catch {
                throw BalancerError.cannotOpenErrorLog(error)
            }
        }
        let targets = Targets(sessionLogs: sessionLogs, errorLogs: errorLogs)
        var added: [String: UpstreamGroup] = [:]
        var bound: [String: ProxyListener] = [:]
        for step in steps {
            switch step {
            case .addUpstream(let upstream):
                added[upstream.name] = self.makeGroup(upstream)
            case .bindListener(let server):
                let key = ProxyListener.key(for: server)
                do {
                    guard let upstreamGroup = added[server.proxyPass] ?? self.upstreams[server.proxyPass] else { continue }
                    bound[key] = try ProxyListener.bind(
                        target: targets.target(server, upstreamGroup), engine: engine)
                } catch {
                    for listener in bound.values {
                        await listener.close()
                    }
                    throw BalancerError.cannotListen(address: key, origin: new.listenOrigins[key] ?? "listen", error)
                }
            default:
                // Every bind worked: commit what they were bound for, then the rest.
                self.commit(added: &added, bound: &bound, initial: initial)
                await self.carryOut(step, in: new, initial: initial, targets: targets)
            }
        }
        self.commit(added: &added, bound: &bound, initial: initial)
        self.configuration = new
        self.publish()
    }

    private func commit(added: inout [String: UpstreamGroup], bound: inout [String: ProxyListener], initial: Bool) {
        self.upstreams.merge(added) { _, new in new }
        added = [:]
        for (key, listener) in bound.sorted(by: { $0.key < $1.key }) {
            self.listeners[key] = listener
            if !initial {
                self.logger.info("listener added", metadata: [LogKey.listen: "\(key)"])
            }
        }
        bound = [:]
    }

    /// One step that cannot fail.
    /// A start's or reload's log queues, by listener key, made before anything changed.
    private struct Targets {
        var sessionLogs: [String: SessionLog]
        var errorLogs: [String: SessionErrorLog]

        func target(_ server: ListenerConfiguration, _ upstream: UpstreamGroup) -> ListenerTarget {
            let key = ProxyListener.key(for: server)
            return ListenerTarget(server: server, upstream: upstream, sessionLog: self.sessionLogs[key], errorLog: self.errorLogs[key])
        }
    }

    private func carryOut(_ step: ReloadStep, in new: BalancerConfiguration, initial: Bool, targets: Targets) async {
        switch step {
        case .addUpstream, .bindListener:
            break
        case .reconfigureUpstream(let upstream):
            self.upstreams[upstream.name]?.pool.reconfigure(upstream)
        case .retargetListener(let server):
            let key = ProxyListener.key(for: server)
            if let upstreamGroup = self.upstreams[server.proxyPass] {
                self.listeners[key]?.update(targets.target(server, upstreamGroup))
            }
        case .closeListener(let key):
            await self.listeners[key]?.close()
            self.listeners[key] = nil
            self.logger.info("listener closed", metadata: [LogKey.listen: "\(key)"])
        case .removeUpstream(let name):
            self.upstreams[name] = nil
        case .stopFeed(let name):
            await self.feeds.stop(name)
        case .startFeed(let name, let source):
            guard let upstreamGroup = self.upstreams[name] else { return }
            self.feeds.start(name, feed: MembershipFeed(source: source, upstream: upstreamGroup, logger: self.logger))
        case .setAdminLimits(let limits):
            self.admin?.update(limits: limits)
            self.logger.info("admin limits changed; they apply to admin connections accepted from now on")
        case .setConnectionLimit(let limit):
            self.engine?.connectionLimit = limit
            if let limit {
                self.logger.info(
                    "client connections limited by worker_connections", metadata: [LogKey.workerConnections: "\(limit)"])
            } else if !initial {
                self.logger.info("worker_connections removed: client connections limited by open files only")
            }
        case .setMultiAccept(let on):
            self.engine?.multiAccept = on
        case .keep(.backlog(let key)):
            self.logger.warning(
                "listen backlog change applies after a restart; the listening socket is kept", metadata: [LogKey.listen: "\(key)"])
        case .keep(.workerProcesses):
            self.logger.warning("worker_processes change applies after a restart; the workers are kept")
        case .keep(.adminAddress):
            self.logger.warning("admin address change applies after a restart; the admin endpoint is kept")
        }
    }

    private func makeGroup(_ upstream: UpstreamConfiguration) -> UpstreamGroup {
        let metrics: GroupMetrics
        if let existing = self.metrics[upstream.name] {
            metrics = existing
        } else {
            let refused = self.refused
            let published = self.refusedPublished
            let logger = self.logger
            let log = self.refusedLog
            let engine = self.engine
            // An unlisted group's figures go nowhere; its scrape still sums the engine-wide counters.
            let factory: any MetricsFactory = upstream.isListed ? self.metricsFactory : NOOPMetricsHandler.instance
            metrics = GroupMetrics(
                upstream: upstream.name, factory: factory, workers: self.eventLoops,
                onScrape: {
                    // Clients refused for worker_connections are counted by the workers; summed here.
                    guard let engine else { return }
                    let total = engine.refusedConnections
                    let delta: Int = published.withLockedValue { last in
                        defer { last = max(last, total) }
                        return total - last
                    }
                    if delta > 0 {
                        refused.increment(by: delta)
                        if let suppressed = log.admit() {
                            logger.warning(
                                "worker_connections are not enough: clients refused",
                                metadata: [
                                    LogKey.workerConnections: "\(engine.connectionLimit.map(String.init) ?? "-")", LogKey.refused: "\(delta)",
                                    LogKey.suppressed: "\(suppressed)",
                                ])
                        }
                    }
                })
            self.metrics[upstream.name] = metrics
        }
        return UpstreamGroup(
            configuration: upstream, pool: MemberPool(configuration: upstream), metrics: metrics,
            logger: self.logger)
    }

    private func publish() {
        var listeners: [MembersReport.Listener] = []
        for key in self.listeners.keys.sorted() {
            guard let listener = self.listeners[key] else { continue }
            let target = listener.currentTarget
            let address = Endpoint(host: target.server.listenHost, port: listener.port).description
            listeners.append(.init(address: address, upstream: target.upstream.name))
        }
        let upstreams = self.configuration.upstreams.compactMap { configuration in
            self.upstreams[configuration.name].map { PublishedState.Upstream(configuration: configuration, group: $0) }
        }
        self.published.withLockedValue { state in
            state.listeners = listeners
            state.upstreams = upstreams
        }
    }

    func listenerAddresses() -> [String: SocketAddress] {
        var result: [String: SocketAddress] = [:]
        for (key, listener) in self.listeners {
            result[key] = try? SocketAddress(ipAddress: listener.currentTarget.server.listenHost, port: listener.port)
        }
        return result
    }

    func adminAddress() -> SocketAddress? {
        self.admin?.channel.localAddress
    }

    func stop(mode: ShutdownMode) async {
        await self.takeTurn()
        defer { self.endTurn() }
        guard !self.stopped else { return }
        self.stopped = true
        self.published.withLockedValue { $0.phase = .draining }
        for listener in self.listeners.values {
            await listener.close()
        }
        self.listeners = [:]
        if let engine = self.engine {
            let open = engine.openConnections
            if case .drain = mode, open > 0 {
                self.logger.notice(
                    "draining connections",
                    metadata: [LogKey.connections: "\(open)", LogKey.deadline: "\(self.options.drainTimeout)"])
                if !(await engine.waitUntilEmpty(timeout: self.options.drainTimeout)) {
                    self.logger.warning(
                        "drain deadline reached; closing remaining connections",
                        metadata: [LogKey.connections: "\(engine.openConnections)"])
                }
            }
            engine.closeAll()
            _ = await engine.waitUntilEmpty(timeout: .seconds(5))
        }
        // After the engine closed its sessions: their records are in the queues, written now.
        await self.accessLogs.stop()
        await self.feeds.stopAll()
        await self.admin?.close()
        self.admin = nil
        await self.engine?.shutdown()
        try? await self.group.shutdownGracefully()
        self.logger.info("balancer stopped")
    }
}
