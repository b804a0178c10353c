import Balancer
import Foundation
import Logging
import NIOCore
import MusterBase
import Registry
import TestSupport
import Testing

/// Live membership through a real ZooKeeper: members registered with the Registry's `Registration`
/// reach the balancer's pool through its membership feed.
@Suite("Proxy live membership (ZooKeeper)", .serialized, .timeLimit(.minutes(3)))
struct ProxyMembershipTests {
    static let path = "/muster/services/chat"

    private func logger() -> Logger {
        .quiet("membership-test")
    }

    private func members(_ balancer: RunningBalancer) -> [MemberStatus] {
        balancer.service.membersReport().upstreams.first?.members ?? []
    }

    /// ZooKeeper and a client of it, with the parents of the members' nodes made: stopped with `scene`.
    private func registry(in scene: TestScene) async throws -> (ZooKeeperServer, ZooKeeperClient) {
        let zk = try await scene.zooKeeper()
        let client = try await scene.client(of: zk, logger: self.logger())
        try await client.createParents(of: ServicePath.member("x", of: Self.path))
        return (zk, client)
    }

    @Test("add -> traffic, weight change applies live, remove -> drain, ZooKeeper down -> members kept")
    func liveMembership() async throws {
        try await TestScene.with { scene in
            let (zk, client) = try await self.registry(in: scene)
            let (a, b) = try await scene.backends("a", "b")
            let balancer = try await scene.balancer(
                BalancerConfiguration(
                    upstreams: [
                        UpstreamConfiguration(
                            name: "chat",
                            zookeeper: ZooKeeperSource(
                                connectString: zk.connectString, path: Self.path, sessionTimeout: .seconds(10)))
                    ],
                    listeners: [.test(upstream: "chat")]))
            // Nobody registered yet: clients are turned away.
            #expect(try await TestClient.name(port: balancer.port) == nil)

            // Add a: it takes all new connections.
            let (_, taskA) = scene.register(a, under: Self.path, client: client, logger: self.logger())
            #expect(await waitUntil { self.members(balancer).map(\.id) == ["zk:a"] })
            #expect(try await TestClient.names(port: balancer.port, connections: 10) == ["a": 10])

            // Add b: strict alternation with equal weights.
            let (registrationB, taskB) = scene.register(b, under: Self.path, client: client, logger: self.logger())
            #expect(await waitUntil { self.members(balancer).count == 2 })
            #expect(try await TestClient.names(port: balancer.port, connections: 20) == ["a": 10, "b": 10])

            // Weight change of b to 3, live: 1 in 4 goes to a.
            registrationB.update(MemberRecord(id: "b", host: "127.0.0.1", port: b.port, weight: 3))
            #expect(await waitUntil { self.members(balancer).first { $0.id == "zk:b" }?.weight == 3 })
            #expect(try await TestClient.names(port: balancer.port, connections: 40) == ["a": 10, "b": 30])

            // Remove the member of a client that is still talking.
            let tasks = ["a": taskA, "b": taskB]
            let connection = try await TestClient.connect(port: balancer.port)
            let remaining: String = try await connection.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                let greeting = try await TestClient.read(2, from: &iterator)
                let removed = String(decoding: greeting.prefix(1), as: UTF8.self)
                let remaining = removed == "a" ? "b" : "a"
                tasks[removed]?.cancel()  // Registration deletes its node on the way out.
                #expect(await waitUntil { self.members(balancer).first { $0.id == "zk:\(removed)" }?.state == "draining" })
                #expect(try await TestClient.names(port: balancer.port, connections: 10) == [remaining: 10])
                try await outbound.write(ByteBuffer(string: "still talking"))
                #expect(try await TestClient.read(13, from: &iterator) == Array("still talking".utf8))
                return remaining
            }
            // Its last connection closed: it disappears.
            #expect(await waitUntil { self.members(balancer).map(\.id) == ["zk:\(remaining)"] })

            // ZooKeeper down: the last known members stay, marked stale.
            await zk.stop()
            #expect(await waitUntil(timeout: .seconds(20)) { balancer.service.membersReport().upstreams[0].stale })
            #expect(try await TestClient.names(port: balancer.port, connections: 5) == [remaining: 5])
            #expect(self.members(balancer).map(\.id) == ["zk:\(remaining)"])

            // Back up: fresh again, same member.
            try await zk.start()
            #expect(await waitUntil(timeout: .seconds(30)) {
                let upstream = balancer.service.membersReport().upstreams[0]
                return !upstream.stale && upstream.members.map(\.id) == ["zk:\(remaining)"]
            })
        }
    }

    @Test("quick start binary follows ZooKeeper; `balancer members --zookeeper` reads the registry directly")
    func quickStartAndDirectMembers() async throws {
        try await TestScene.with { scene in
            let (zk, client) = try await self.registry(in: scene)
            let a = try await scene.backend("a")
            let (registration, _) = scene.register(a, under: Self.path, client: client, weight: 2, logger: self.logger())
            #expect(await registration.waitUntilSettled(timeout: .seconds(10)))

            let port = try freeLoopbackPort()
            let adminPort = try freeLoopbackPort()
            let balancer = try scene.process("balancer", [
                "run", "--listen", "127.0.0.1:\(port)", "--zookeeper", zk.connectString, "--path", Self.path,
                "--admin", "127.0.0.1:\(adminPort)", "--log-level", "error",
            ])
            #expect(await waitUntil { (try? await TestClient.name(port: port)) == "a" })

            let viaAdmin = try await BalancerBinaryTests.run(["members", "--admin", "127.0.0.1:\(adminPort)"])
            #expect(viaAdmin.status == 0)
            #expect(viaAdmin.output.contains("upstream default (round_robin, zookeeper \(zk.connectString) \(Self.path)/members)"))
            #expect(viaAdmin.output.contains("zk:a  127.0.0.1:\(a.port)  2       zookeeper  up"))

            #expect(await balancer.exitStatus(after: SIGTERM, timeout: .seconds(30)) == 0, "\(balancer.log)")

            let direct = try await BalancerBinaryTests.run(["members", "--zookeeper", zk.connectString, "--path", Self.path])
            #expect(direct.status == 0)
            #expect(direct.output.contains("registry \(zk.connectString) \(Self.path)/members"))
            #expect(direct.output.contains("zk:a  127.0.0.1:\(a.port)  2       zookeeper  up"))
            let json = try await BalancerBinaryTests.run(["members", "--zookeeper", zk.connectString, "--path", Self.path, "--json"])
            // The same shape as the admin endpoint's GET /members.
            let report = try JSONDecoder().decode(MembersReport.self, from: Data(json.output.utf8))
            #expect(report.upstreams.flatMap(\.members).map(\.id) == ["zk:a"])

            let missing = try await BalancerBinaryTests.run(["members", "--admin", "127.0.0.1:\(adminPort)"])
            #expect(missing.status == 1)
            #expect(missing.error.contains("cannot reach the balancer admin endpoint"))
        }
    }
}
