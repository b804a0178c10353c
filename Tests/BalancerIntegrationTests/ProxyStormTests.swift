import Balancer
import Foundation
import Logging
import MusterBase
import Registry
import TestSupport
import Testing

/// Issue #11 through a real ZooKeeper: registrations lost while their servers live, a deleted
/// members path, and members that leave on purpose.
@Suite("Proxy membership storms (ZooKeeper)", .serialized, .timeLimit(.minutes(3)))
struct ProxyStormTests {
    static let path = "/muster/services/chat"

    /// ZooKeeper, backends and a balancer fed from the path, with what a test opens on them: the
    /// clients and registrations made through it are ended when the test is, then the balancer,
    /// the backends and ZooKeeper are stopped, whether the test returned or threw.
    private final class Scene: @unchecked Sendable {
        // @unchecked Sendable: used by the test's own task only.
        let zk: ZooKeeperServer
        let backends: [TestBackend]
        let balancer: RunningBalancer
        private var clients: [ZooKeeperClient] = []
        private var tasks: [Task<Void, Never>] = []
        let logger = Logger.quiet("storm-test")

        private init(zk: ZooKeeperServer, backends: [TestBackend], balancer: RunningBalancer) {
            self.zk = zk
            self.backends = backends
            self.balancer = balancer
        }

        static func with(_ names: [String], _ body: (Scene) async throws -> Void) async throws {
            let zk = try await ZooKeeperServer.start()
            var backends: [TestBackend] = []
            for name in names { backends.append(try await TestBackend.start(name: name)) }
            let balancer = try await RunningBalancer.start(
                BalancerConfiguration(
                    upstreams: [
                        UpstreamConfiguration(
                            name: "chat",
                            zookeeper: ZooKeeperSource(connectString: zk.connectString, path: ProxyStormTests.path, sessionTimeout: .seconds(4)))
                    ],
                    listeners: [.test(upstream: "chat")]))
            let scene = Scene(zk: zk, backends: backends, balancer: balancer)
            try await withCleanup({ try await body(scene) }, cleanup: { await scene.stop() })
        }

        /// A new client of this ZooKeeper (closed at the end; closing it earlier is fine).
        func client() async throws -> ZooKeeperClient {
            let client = try await self.zk.client(sessionTimeout: .seconds(4), logger: self.logger)
            self.clients.append(client)
            return client
        }

        /// Registers `backend` through `client`; the registration's task, cancelled at the end.
        func register(_ backend: TestBackend, client: ZooKeeperClient, leaveGrace: Duration = .zero) -> (Registration, Task<Void, Never>) {
            let registration = backend.register(under: ProxyStormTests.path, client: client, leaveGrace: leaveGrace, logger: self.logger)
            self.tasks.append(registration.1)
            return registration
        }

        /// Member id (without `zk:`) to state.
        func states() -> [String: String] {
            var states: [String: String] = [:]
            for member in self.balancer.service.membersReport().upstreams.first?.members ?? [] {
                states[String(member.id.dropFirst(3))] = member.state
            }
            return states
        }

        private func stop() async {
            for task in self.tasks {
                task.cancel()
                await task.value
            }
            await self.balancer.stop()
            for client in self.clients { await client.close() }
            for backend in self.backends { await backend.stop() }
            await self.zk.stop()
        }
    }

    @Test("two of three registrations lost while their servers live: clients still reach all three (suspects); registered again: normal")
    func lostRegistrationsStayServed() async throws {
        try await Scene.with(["a", "b", "c"]) { scene in
            let balancer = scene.balancer
            var clients: [ZooKeeperClient] = []
            var tasks: [Task<Void, Never>] = []
            for backend in scene.backends {
                let client = try await scene.client()
                clients.append(client)
                tasks.append(scene.register(backend, client: client).1)
            }
            #expect(await waitUntil { scene.states() == ["a": "up", "b": "up", "c": "up"] })
            // b's and c's sessions end (as when their agents are frozen past the session timeout):
            // ZooKeeper deletes their nodes, unmarked.
            tasks[1].cancel()
            tasks[2].cancel()
            await clients[1].close()
            await clients[2].close()
            #expect(await waitUntil { scene.states() == ["a": "up", "b": "suspect", "c": "suspect"] })
            #expect(balancer.service.membersReport().upstreams[0].panic == true)
            #expect(try await TestClient.names(port: balancer.port, connections: 30) == ["a": 10, "b": 10, "c": 10])

            // Thawed: they register again and are normal members; the panic ends.
            for index in 1...2 {
                _ = scene.register(scene.backends[index], client: try await scene.client())
            }
            #expect(await waitUntil { scene.states() == ["a": "up", "b": "up", "c": "up"] })
            #expect(balancer.service.membersReport().upstreams[0].panic == false)
        }
    }

    @Test("a deleted members path counts as all lost: every member is still served")
    func deletedMembersPath() async throws {
        try await Scene.with(["a", "b"]) { scene in
            let admin = try await scene.client()
            let members = ServicePath.members(of: Self.path)
            try await admin.createParents(of: ServicePath.member("x", of: Self.path))
            for backend in scene.backends {
                let record = MemberRecord(id: backend.name, host: "127.0.0.1", port: backend.port)
                try await admin.create(ServicePath.member(backend.name, of: Self.path), data: try record.encoded(), mode: .ephemeral)
            }
            #expect(await waitUntil { scene.states() == ["a": "up", "b": "up"] })
            // An operator's `deleteall` of the members path.
            for child in try await admin.getChildren(members) {
                try await admin.delete(members + "/" + child)
            }
            try await admin.delete(members)
            #expect(await waitUntil { scene.states() == ["a": "suspect", "b": "suspect"] })
            #expect(try await TestClient.names(port: scene.balancer.port, connections: 10) == ["a": 5, "b": 5])
        }
    }

    @Test("a leaving member gets no new clients from its mark on, and is removed (not kept) when its node goes")
    func leavingMember() async throws {
        try await Scene.with(["a", "b"]) { scene in
            let balancer = scene.balancer
            let client = try await scene.client()
            let observer = try await scene.client()
            let (registrationA, _) = scene.register(scene.backends[0], client: client, leaveGrace: .seconds(3))
            _ = scene.register(scene.backends[1], client: client, leaveGrace: .seconds(3))
            #expect(await waitUntil { scene.states() == ["a": "up", "b": "up"] })
            registrationA.setActive(false, leaving: "health: connection refused")
            #expect(await waitUntil { scene.states()["a"] == "leaving" })
            let node = ServicePath.member("a", of: Self.path)
            // The node is still there, and a gets nothing new.
            #expect(try await observer.exists(node) != nil)
            #expect(try await TestClient.names(port: balancer.port, connections: 10) == ["b": 10])
            #expect(try await observer.exists(node) != nil)
            let reason = balancer.service.membersReport().upstreams[0].members.first { $0.id == "zk:a" }?.reason
            #expect(reason == "health: connection refused")
            // Node gone: removed, not a suspect, even though 1 of 2 is at the panic threshold's edge.
            #expect(try await waitUntil { try await observer.exists(node) == nil })
            #expect(await waitUntil { scene.states() == ["b": "up"] })
            #expect(balancer.service.membersReport().upstreams[0].panic == false)
        }
    }
}
