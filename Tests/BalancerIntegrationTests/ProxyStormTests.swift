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

    private func logger() -> Logger {
        .quiet("storm-test")
    }

    private func client(_ zk: ZooKeeperServer) async throws -> ZooKeeperClient {
        try await zk.client(sessionTimeout: .seconds(4), logger: self.logger())
    }

    private func balancer(_ zk: ZooKeeperServer) async throws -> RunningBalancer {
        try await RunningBalancer.start(
            BalancerConfiguration(
                upstreams: [
                    UpstreamConfiguration(
                        name: "chat",
                        zookeeper: ZooKeeperSource(connectString: zk.connectString, path: Self.path, sessionTimeout: .seconds(4)))
                ],
                listeners: [.test(upstream: "chat")]))
    }

    private func states(_ balancer: RunningBalancer) -> [String: String] {
        var states: [String: String] = [:]
        for member in balancer.service.membersReport().upstreams.first?.members ?? [] {
            states[String(member.id.dropFirst(3))] = member.state
        }
        return states
    }

    @Test("two of three registrations lost while their servers live: clients still reach all three (suspects); registered again: normal")
    func lostRegistrationsStayServed() async throws {
        let zk = try await ZooKeeperServer.start()
        let backends = [try await TestBackend.start(name: "a"), try await TestBackend.start(name: "b"), try await TestBackend.start(name: "c")]
        var clients: [ZooKeeperClient] = []
        var tasks: [Task<Void, Never>] = []
        let balancer = try await self.balancer(zk)
        do {
            for backend in backends {
                let client = try await self.client(zk)
                clients.append(client)
                tasks.append(backend.register(under: Self.path, client: client, logger: self.logger()).1)
            }
            #expect(await waitUntil { self.states(balancer) == ["a": "up", "b": "up", "c": "up"] })
            // b's and c's sessions end (as when their agents are frozen past the session timeout):
            // ZooKeeper deletes their nodes, unmarked.
            tasks[1].cancel()
            tasks[2].cancel()
            await clients[1].close()
            await clients[2].close()
            #expect(await waitUntil { self.states(balancer) == ["a": "up", "b": "suspect", "c": "suspect"] })
            #expect(balancer.service.membersReport().upstreams[0].panic == true)
            #expect(try await TestClient.names(port: balancer.port, connections: 30) == ["a": 10, "b": 10, "c": 10])

            // Thawed: they register again and are normal members; the panic ends.
            for index in 1...2 {
                let client = try await self.client(zk)
                clients[index] = client
                tasks[index] = backends[index].register(under: Self.path, client: client, logger: self.logger()).1
            }
            #expect(await waitUntil { self.states(balancer) == ["a": "up", "b": "up", "c": "up"] })
            #expect(balancer.service.membersReport().upstreams[0].panic == false)
        } catch {
            Issue.record(error)
        }
        for task in tasks { task.cancel(); await task.value }
        await balancer.stop()
        for client in clients { await client.close() }
        for backend in backends { await backend.stop() }
        await zk.stop()
    }

    @Test("a deleted members path counts as all lost: every member is still served")
    func deletedMembersPath() async throws {
        let zk = try await ZooKeeperServer.start()
        let backends = [try await TestBackend.start(name: "a"), try await TestBackend.start(name: "b")]
        let admin = try await self.client(zk)
        let balancer = try await self.balancer(zk)
        do {
            let members = ServicePath.members(of: Self.path)
            try await admin.createParents(of: ServicePath.member("x", of: Self.path))
            for backend in backends {
                let record = MemberRecord(id: backend.name, host: "127.0.0.1", port: backend.port)
                try await admin.create(ServicePath.member(backend.name, of: Self.path), data: try record.encoded(), mode: .ephemeral)
            }
            #expect(await waitUntil { self.states(balancer) == ["a": "up", "b": "up"] })
            // An operator's `deleteall` of the members path.
            for child in try await admin.getChildren(members) {
                try await admin.delete(members + "/" + child)
            }
            try await admin.delete(members)
            #expect(await waitUntil { self.states(balancer) == ["a": "suspect", "b": "suspect"] })
            #expect(try await TestClient.names(port: balancer.port, connections: 10) == ["a": 5, "b": 5])
        } catch {
            Issue.record(error)
        }
        await balancer.stop()
        await admin.close()
        for backend in backends { await backend.stop() }
        await zk.stop()
    }

    @Test("a leaving member gets no new clients from its mark on, and is removed (not kept) when its node goes")
    func leavingMember() async throws {
        let zk = try await ZooKeeperServer.start()
        let backends = [try await TestBackend.start(name: "a"), try await TestBackend.start(name: "b")]
        let client = try await self.client(zk)
        let observer = try await self.client(zk)
        let balancer = try await self.balancer(zk)
        var tasks: [Task<Void, Never>] = []
        do {
            let (registrationA, taskA) = backends[0].register(under: Self.path, client: client, leaveGrace: .seconds(3), logger: self.logger())
            tasks.append(taskA)
            tasks.append(backends[1].register(under: Self.path, client: client, leaveGrace: .seconds(3), logger: self.logger()).1)
            #expect(await waitUntil { self.states(balancer) == ["a": "up", "b": "up"] })
            registrationA.setActive(false, leaving: "health: connection refused")
            #expect(await waitUntil { self.states(balancer)["a"] == "leaving" })
            let node = ServicePath.member("a", of: Self.path)
            // The node is still there, and a gets nothing new.
            #expect(try await observer.exists(node) != nil)
            #expect(try await TestClient.names(port: balancer.port, connections: 10) == ["b": 10])
            #expect(try await observer.exists(node) != nil)
            let reason = balancer.service.membersReport().upstreams[0].members.first { $0.id == "zk:a" }?.reason
            #expect(reason == "health: connection refused")
            // Node gone: removed, not a suspect, even though 1 of 2 is at the panic threshold's edge.
            #expect(try await waitUntil { try await observer.exists(node) == nil })
            #expect(await waitUntil { self.states(balancer) == ["b": "up"] })
            #expect(balancer.service.membersReport().upstreams[0].panic == false)
        } catch {
            Issue.record(error)
        }
        for task in tasks { task.cancel(); await task.value }
        await balancer.stop()
        await client.close()
        await observer.close()
        for backend in backends { await backend.stop() }
        await zk.stop()
    }
}
