import Foundation
import Logging
import Registry
import Testing
import TestSupport

/// The client against a real ZooKeeper server.
@Suite("ZooKeeperClient", .serialized)
struct ZooKeeperClientTests {
    static let logger = Logger(label: "test.zk")

    func connect(_ server: ZooKeeperServer, chroot: String = "", timeout: Duration = .seconds(4),
                 credentials: DigestCredentials? = nil) async throws -> ZooKeeperClient {
        try await server.client(sessionTimeout: timeout, credentials: credentials, chroot: chroot, logger: Self.logger)
    }

    @Test func crudAndErrors() async throws {
        try await ZooKeeperServer.with { server in
        let client = try await connect(server)
        defer { Task { await client.close() } }

        let created = try await client.create("/a/b/c", data: Array("hello".utf8), makeParents: true)
        #expect(created == "/a/b/c")
        let (data, stat) = try await client.getData("/a/b/c")
        #expect(String(decoding: data, as: UTF8.self) == "hello")
        #expect(stat.version == 0)
        #expect(stat.ephemeralOwner == 0)

        let newStat = try await client.setData("/a/b/c", data: Array("bye".utf8), version: 0)
        #expect(newStat.version == 1)
        await #expect(throws: ZooKeeperError(.badVersion, operation: "set", path: "/a/b/c")) {
            try await client.setData("/a/b/c", data: [], version: 0)
        }
        await #expect(throws: ZooKeeperError(.nodeExists, operation: "create", path: "/a/b/c")) {
            try await client.create("/a/b/c")
        }
        await #expect(throws: ZooKeeperError(.noNode, operation: "get", path: "/missing")) {
            try await client.getData("/missing")
        }
        await #expect(throws: ZooKeeperError(.notEmpty, operation: "delete", path: "/a/b")) {
            try await client.delete("/a/b")
        }
        await #expect(throws: ZooKeeperError(.badArguments, operation: "get", path: "no-slash")) {
            try await client.getData("no-slash")
        }
        #expect(try await client.exists("/missing") == nil)
        #expect(try await client.getChildren("/a/b") == ["c"])

        let seq1 = try await client.create("/a/seq-", mode: .persistentSequential)
        let seq2 = try await client.create("/a/seq-", mode: .persistentSequential)
        #expect(seq1.hasPrefix("/a/seq-") && seq1 < seq2)

        try await client.delete("/a/b/c", version: 1)
        #expect(try await client.exists("/a/b/c") == nil)
        }
    }

    @Test func chrootIsAppliedAndCreatedAsParent() async throws {
        try await ZooKeeperServer.with { server in
        let rooted = try await connect(server, chroot: "/muster/test")
        defer { Task { await rooted.close() } }
        try await rooted.create("/services/x", data: [1], makeParents: true)
        let plain = try await connect(server)
        defer { Task { await plain.close() } }
        #expect(try await plain.exists("/muster/test/services/x") != nil)
        let (children, _, watch) = try await rooted.getChildrenWatching("/services")
        #expect(children == ["x"])
        try await plain.create("/muster/test/services/y")
        #expect(await watch.event() == .childrenChanged(path: "/services"))
        }
    }

    @Test func watchesFireOnce() async throws {
        try await ZooKeeperServer.with { server in
        let client = try await connect(server)
        defer { Task { await client.close() } }

        let (missing, existsWatch) = try await client.existsWatching("/w")
        #expect(missing == nil)
        try await client.create("/w", data: [1])
        #expect(await existsWatch.event() == .created(path: "/w"))

        let (_, _, dataWatch) = try await client.getDataWatching("/w")
        try await client.setData("/w", data: [2])
        #expect(await dataWatch.event() == .dataChanged(path: "/w"))

        let (_, _, deleteWatch) = try await client.getDataWatching("/w")
        try await client.delete("/w")
        #expect(await deleteWatch.event() == .deleted(path: "/w"))
        }
    }

    /// Regression: close() finished the state streams while holding the client's lock, and a stream's
    /// termination handler takes that lock: a consumer still iterating at close time hung close forever.
    @Test func closeEndsLiveStateStreamsWithoutHanging() async throws {
        try await ZooKeeperServer.with { server in
        let client = try await connect(server)
        let states = client.sessionStates()
        let consumer = Task { () -> [SessionState] in
            var seen: [SessionState] = []
            for await state in states { seen.append(state) }
            return seen
        }
        // Nothing here may take the client's lock before close() returns: with the bug, the thread
        // that deadlocked holds it, and a second waiter would block the rest of the thread pool.
        let closed = Task { await client.close(); return true }
        let closeReturned = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { await closed.value }
            group.addTask { try await Task.sleep(for: .seconds(10)); return false }
            defer { group.cancelAll() }
            return try await group.next() ?? false
        }
        #expect(closeReturned, "close() did not return within 10 s")
        guard closeReturned else { return }
        #expect(client.state == .closed)
        let seen = await consumer.value
        #expect(seen.last == .closed)
        }
    }

    @Test func ephemeralGoneAfterOwnerCloses() async throws {
        try await ZooKeeperServer.with { server in
        let owner = try await connect(server)
        let observer = try await connect(server)
        defer { Task { await observer.close() } }
        try await owner.create("/e", data: [1], mode: .ephemeral)
        let stat = try #require(try await observer.exists("/e"))
        #expect(stat.ephemeralOwner == owner.sessionID)
        let (_, watch) = try await observer.existsWatching("/e")
        await owner.close()
        #expect(owner.state == .closed)
        #expect(await watch.event() == .deleted(path: "/e"))
        #expect(try await observer.exists("/e") == nil)
        }
    }

    @Test func ephemeralGoneAfterSessionExpiryAndClientRenewsSession() async throws {
        try await ZooKeeperServer.with { server in
        let owner = try await connect(server)
        defer { Task { await owner.close() } }
        let observer = try await connect(server)
        defer { Task { await observer.close() } }
        try await owner.create("/e", data: [1], mode: .ephemeral)
        let firstSession = owner.sessionID
        let states = owner.sessionStates()
        let seen = Task {
            var seen: [SessionState] = []
            for await state in states {
                seen.append(state)
                if state == .connected, seen.contains(.expired) { break }
            }
            return seen
        }

        try await ZooKeeperServer.expireSession(of: owner)
        #expect(try await waitUntil(timeout: .seconds(10)) { try await observer.exists("/e") == nil })
        // The client opens a new session by itself.
        #expect(await waitUntil(timeout: .seconds(10)) { owner.state == .connected && owner.sessionID != firstSession })
        let history = await seen.value
        #expect(history.first == .connected)
        #expect(history.last == .connected)
        #expect(history.contains(.expired))
        try await owner.create("/after", mode: .ephemeral)
        #expect(try await observer.exists("/after")?.ephemeralOwner == owner.sessionID)
        }
    }

    @Test func digestACLKeepsOthersOut() async throws {
        try await ZooKeeperServer.with { server in
        let agent = try await connect(server, credentials: DigestCredentials(user: "agent", password: "s3cret"))
        defer { Task { await agent.close() } }
        try await agent.create("/protected", acl: .creatorAllWorldRead)
        try await agent.create("/protected/m1", data: [1], mode: .ephemeral, acl: .creatorAllWorldRead)

        let anonymous = try await connect(server)
        defer { Task { await anonymous.close() } }
        #expect(try await anonymous.getChildren("/protected") == ["m1"])
        await #expect(throws: ZooKeeperError(.noAuth, operation: "create", path: "/protected/m2")) {
            try await anonymous.create("/protected/m2", mode: .ephemeral)
        }
        await #expect(throws: ZooKeeperError(.noAuth, operation: "delete", path: "/protected/m1")) {
            try await anonymous.delete("/protected/m1")
        }
        let impostor = try await connect(server, credentials: DigestCredentials(user: "agent", password: "wrong"))
        defer { Task { await impostor.close() } }
        await #expect(throws: ZooKeeperError(.noAuth, operation: "set", path: "/protected/m1")) {
            try await impostor.setData("/protected/m1", data: [2])
        }
        try await agent.setData("/protected/m1", data: [3])
        }
    }

    @Test func requestsFailWhileServerIsDownAndSessionSurvivesRestart() async throws {
        try await ZooKeeperServer.with { server in
        let client = try await connect(server, timeout: .seconds(20))
        defer { Task { await client.close() } }
        try await client.create("/eph", mode: .ephemeral)
        let session = client.sessionID
        await server.stop()
        #expect(await waitUntil(timeout: .seconds(10)) { client.state == .connecting })
        await #expect(throws: ZooKeeperError.self) { try await client.getData("/eph") }
        try await server.start()
        try await client.waitUntilConnected(timeout: .seconds(30))
        #expect(client.sessionID == session)
        #expect(try await client.exists("/eph")?.ephemeralOwner == session)
        }
    }

    @Test func unreachableServerTimesOut() async throws {
        let port = try freeLoopbackPort()
        let client = try ZooKeeperClient(configuration: ZooKeeperConfiguration(connectString: "127.0.0.1:\(port)"),
                                         logger: Self.logger)
        defer { Task { await client.close() } }
        await #expect(throws: ZooKeeperError.self) { try await client.waitUntilConnected(timeout: .milliseconds(300)) }
        #expect(client.state == .connecting)
    }
}
