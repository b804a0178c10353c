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

    /// Graceful shutdown, waiting until run() returned.
    func stop() async {
        self.service.triggerGracefulShutdown()
        _ = try? await self.task.value
    }
}

extension RunningBalancer {
    /// A balancer whose one group has `backend` as a static member and a ZooKeeper source that
    /// cannot start (nothing listens at 127.0.0.1:1, and `authFile` does not exist).
    static func withUnstartableSource(backend: TestBackend, authFile: String) async throws -> RunningBalancer {
        try await RunningBalancer.start(
            BalancerConfiguration(
                upstreams: [
                    UpstreamConfiguration(
                        name: "backends", servers: [.backend(backend)],
                        zookeeper: ZooKeeperSource(
                            connectString: "127.0.0.1:1", path: "/muster/services/chat", authFile: authFile))
                ],
                listeners: [.test()]))
    }
}

extension RunningBalancer {
    /// A balancer whose one group, "backends", is `servers`, behind one listener: the scene of
    /// most proxy tests.
    static func start(
        backends servers: [StaticServer], listener: ListenerConfiguration = .test(), drainTimeout: Duration = .seconds(5)
    ) async throws -> RunningBalancer {
        try await start(.backends(servers, listeners: [listener]), drainTimeout: drainTimeout)
    }
}

extension BalancerConfiguration {
    /// One group, "backends", of `servers`, behind `listeners`.
    static func backends(_ servers: [StaticServer], listeners: [ListenerConfiguration] = [.test()]) -> BalancerConfiguration {
        BalancerConfiguration(upstreams: [UpstreamConfiguration(name: "backends", servers: servers)], listeners: listeners)
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
