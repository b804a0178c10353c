import Balancer
import TestSupport

extension TestScene {
    /// An in-process balancer on `configuration`, stopped (gracefully) with the scene.
    func balancer(_ configuration: BalancerConfiguration, drainTimeout: Duration = .seconds(5)) async throws -> RunningBalancer {
        let balancer = try await RunningBalancer.start(configuration, drainTimeout: drainTimeout)
        self.onExit { await balancer.stop() }
        return balancer
    }

    /// A balancer whose one group, "backends", is `servers`, behind one listener: the scene of
    /// most proxy tests.
    func balancer(
        backends servers: [StaticServer], listener: ListenerConfiguration = .test(), drainTimeout: Duration = .seconds(5)
    ) async throws -> RunningBalancer {
        try await self.balancer(.backends(servers, listeners: [listener]), drainTimeout: drainTimeout)
    }

    /// A balancer read from config text (as `file`, for its messages).
    func balancer(config text: String, file: String = "test.conf") async throws -> RunningBalancer {
        try await self.balancer(try BalancerConfiguration.parse(text, file: file))
    }

    /// A ``FloodBackend`` that writes `total` bytes to each client, stopped with the scene.
    func flood(total: Int, closeWhenDone: Bool = false) async throws -> FloodBackend {
        let flood = try await FloodBackend.start(total: total, closeWhenDone: closeWhenDone)
        self.onExit { await flood.stop() }
        return flood
    }

    /// A ``BlackholePort``, kept (and so hanging connects) until the scene ends.
    func blackhole() async throws -> BlackholePort {
        let hole = try await BlackholePort.make()
        self.onExit { withExtendedLifetime(hole) {} }
        return hole
    }
}
