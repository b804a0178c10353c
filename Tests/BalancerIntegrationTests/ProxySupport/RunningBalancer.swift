import Balancer
import Logging
import MusterBase
import NIOCore
import NIOPosix
import Testing
import TestSupport

/// A `BalancerService` running in-process for a test, with its listener and admin ports.
struct RunningBalancer {
    let service: BalancerService
    let task: Task<Void, Error>
    /// Port of the (first) listener.
    let port: Int
    let adminPort: Int

    static func start(
        _ configuration: BalancerConfiguration, drainTimeout: Duration = .seconds(5)
    ) async throws -> RunningBalancer {
        var logger = Logger(label: "balancer-test")
        logger.logLevel = .warning
        let service = BalancerService(
            configuration: configuration,
            options: .init(adminAddress: "127.0.0.1:0", drainTimeout: drainTimeout, eventLoopThreads: 2),
            logger: logger)
        let task = Task { try await service.run() }
        await service.waitUntilStarted()
        let listeners = await service.listenerAddresses()
        guard let first = configuration.listeners.first,
            let port = listeners["\(first.listenHost):\(first.listenPort)"]?.port,
            let adminPort = await service.adminAddress()?.port
        else {
            task.cancel()
            _ = try? await task.value
            throw TestSupportError("balancer did not start: \(listeners)")
        }
        return RunningBalancer(service: service, task: task, port: port, adminPort: adminPort)
    }

    /// The admin endpoint's body for `path` (`/metrics`, `/members`, `/healthz`) as text. The
    /// deadline only stops a hung endpoint: how fast a loaded machine answers is not under test.
    func admin(_ path: String, timeout: Duration = .seconds(30)) async throws -> String {
        let body = try await AdminClient.get(path, from: Endpoint(host: "127.0.0.1", port: self.adminPort), timeout: timeout)
        return String(decoding: body, as: UTF8.self)
    }

    /// Whether every member of the first group reports no open session (the balancer closes its
    /// side of a session a moment after the client did).
    var sessionsClosed: Bool {
        self.service.membersReport().upstreams[0].members.allSatisfy { $0.active == 0 }
    }

    /// What the first group's membership feed reports as its error, if anything.
    var membershipError: String? {
        self.service.membersReport().upstreams[0].membershipError
    }

    /// The failures the first group's members report, all together.
    var failures: Int {
        self.service.membersReport().upstreams[0].members.map { $0.failures ?? 0 }.reduce(0, +)
    }

    /// Graceful shutdown, waiting until run() returned (again at once after the first time).
    func stop() async {
        self.service.triggerGracefulShutdown()
        _ = try? await self.task.value
    }
}

extension RunningBalancer {
    /// The scene of most proxy tests in one call: backend `name` (it greets with its name, then
    /// echoes) in the group "backends", after the members `first` if any, behind `listener`; all
    /// of it stopped after `body`, whether it returned or threw.
    @discardableResult
    static func with<T>(
        backend name: String, after first: [StaticServer] = [], listener: ListenerConfiguration = .test(),
        drainTimeout: Duration = .seconds(5), _ body: (RunningBalancer, TestBackend) async throws -> T
    ) async throws -> T {
        try await with(
            backend: name, configuration: { .backends(first + [.backend($0)], listeners: [listener]) }, drainTimeout: drainTimeout,
            body)
    }

    /// Backend `name` and a balancer on the configuration `configuration` makes with it, stopped
    /// after `body` as the scene above.
    @discardableResult
    static func with<T>(
        backend name: String, configuration: (TestBackend) -> BalancerConfiguration, drainTimeout: Duration = .seconds(5),
        _ body: (RunningBalancer, TestBackend) async throws -> T
    ) async throws -> T {
        try await TestScene.with { scene in
            let backend = try await scene.backend(name)
            let balancer = try await scene.balancer(configuration(backend), drainTimeout: drainTimeout)
            return try await body(balancer, backend)
        }
    }

    /// Two backends, `first` and `second`, in the group "backends" with `weights`, behind one
    /// listener: the scene of the balancing tests, stopped after `body` as ``with(backend:after:listener:drainTimeout:_:)``'s.
    @discardableResult
    static func with<T>(
        backends first: String, _ second: String, weights: (Int, Int) = (1, 1),
        _ body: (RunningBalancer, TestBackend, TestBackend) async throws -> T
    ) async throws -> T {
        try await TestScene.with { scene in
            let (a, b) = try await scene.backends(first, second)
            let balancer = try await scene.balancer(backends: [.backend(a, weight: weights.0), .backend(b, weight: weights.1)])
            return try await body(balancer, a, b)
        }
    }
}

extension BalancerConfiguration {
    /// One group, "backends", of `servers`, behind `listeners`.
    static func backends(_ servers: [StaticServer], listeners: [ListenerConfiguration] = [.test()]) -> BalancerConfiguration {
        BalancerConfiguration(upstreams: [UpstreamConfiguration(name: "backends", servers: servers)], listeners: listeners)
    }

    /// One group, "backends", with `backend` as a static member beside a ZooKeeper source at
    /// 127.0.0.1:1, where nothing listens; with an `authFile` that does not exist the source cannot
    /// even start, without one its feed starts and keeps retrying.
    static func unreachableSource(beside backend: TestBackend, authFile: String? = nil) -> BalancerConfiguration {
        BalancerConfiguration(
            upstreams: [
                UpstreamConfiguration(
                    name: "backends", servers: [.backend(backend)],
                    zookeeper: ZooKeeperSource(connectString: "127.0.0.1:1", path: "/muster/services/chat", authFile: authFile))
            ],
            listeners: [.test()])
    }
}

extension StaticServer {
    static func backend(_ backend: TestBackend, weight: Int = 1, maxFails: Int = 1, failTimeout: Duration = .seconds(10)) -> StaticServer {
        StaticServer(host: "127.0.0.1", port: backend.port, weight: weight, maxFails: maxFails, failTimeout: failTimeout)
    }
}

extension ListenerConfiguration {
    static func test(
        upstream: String = "backends", connectTimeout: Duration = .seconds(1), idleTimeout: Duration = .seconds(600),
        halfClose: Bool = true
    ) -> ListenerConfiguration {
        ListenerConfiguration(
            listenHost: "127.0.0.1", listenPort: 0, proxyPass: upstream, connectTimeout: connectTimeout,
            idleTimeout: idleTimeout, halfClose: halfClose)
    }
}
