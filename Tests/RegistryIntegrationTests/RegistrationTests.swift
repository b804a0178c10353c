import Foundation
import InMemoryLogging
import Logging
import Registry
import ServiceLifecycle
import Testing
import TestSupport

@Suite("Registration", .serialized)
struct RegistrationTests {
    static let logger = Logger(label: "test.registration")
    static let path = "/muster/services/chat/members"

    static func client(_ server: ZooKeeperServer, sessionTimeout: Duration = .seconds(4)) async throws -> ZooKeeperClient {
        try await server.client(sessionTimeout: sessionTimeout, logger: logger)
    }

    static func record(_ id: String, port: Int = 6000, weight: Int = 1) -> MemberRecord {
        MemberRecord(id: id, host: "127.0.0.1", port: port, weight: weight, metadata: ["test": "yes"])
    }

    /// Runs the registration in a task; cancelling it is the graceful stop.
    static func start(_ registration: Registration) -> Task<Void, Never> {
        Task { try? await registration.run() }
    }

    /// Registers `id` through `client` (started as `start` does) and waits until it has settled.
    static func register(_ id: String, on client: ZooKeeperClient) async -> (Registration, Task<Void, Never>) {
        let registration = Registration(client: client, path: path, record: record(id), logger: logger)
        let running = start(registration)
        #expect(await registration.waitUntilSettled(timeout: .seconds(10)))
        return (registration, running)
    }

    /// The client that registers and a second one that observes, both of `server`.
    static func clientAndObserver(_ server: ZooKeeperServer) async throws -> (ZooKeeperClient, ZooKeeperClient) {
        (try await client(server), try await client(server))
    }

    @Test func registersUpdatesDeregistersAndDeletesOnStop() async throws {
        try await ZooKeeperServer.with { server in
            let (client, observer) = try await Self.clientAndObserver(server)
            defer { Task { await client.close(); await observer.close() } }
            let (registration, running) = await Self.register("m1", on: client)
            let (data, stat) = try await observer.getData("\(Self.path)/m1")
            #expect(try MemberRecord.decode(data) == Self.record("m1"))
            #expect(stat.ephemeralOwner == client.sessionID)

            // Update in place: same node (same czxid), new data.
            registration.update(Self.record("m1", weight: 5))
            #expect(await waitUntil(timeout: .seconds(10)) {
                (try? MemberRecord.decode(try await observer.getData("\(Self.path)/m1").data))?.weight == 5
            })
            #expect(try await observer.exists("\(Self.path)/m1")?.czxid == stat.czxid)

            // An update may not change the id.
            registration.update(Self.record("other"))
            #expect(registration.record.id == "m1")

            registration.setActive(false)
            #expect(try await waitUntil(timeout: .seconds(10)) { try await observer.exists("\(Self.path)/m1") == nil })
            registration.setActive(true)
            #expect(try await waitUntil(timeout: .seconds(10)) { try await observer.exists("\(Self.path)/m1") != nil })

            running.cancel()
            await running.value
            // Deleted before run() returned.
            #expect(try await observer.exists("\(Self.path)/m1") == nil)
        }
    }

    @Test func gracefulShutdownThroughServiceGroupDeletesTheNode() async throws {
        try await ZooKeeperServer.with { server in
            let (client, observer) = try await Self.clientAndObserver(server)
            defer { Task { await client.close(); await observer.close() } }
            let registration = Registration(client: client, path: Self.path, record: Self.record("g1"), logger: Self.logger)
            let group = ServiceGroup(services: [registration], logger: Self.logger)
            let running = Task { try await group.run() }
            #expect(await registration.waitUntilSettled(timeout: .seconds(10)))
            #expect(try await observer.exists("\(Self.path)/g1") != nil)
            await group.triggerGracefulShutdown()
            try await running.value
            #expect(try await observer.exists("\(Self.path)/g1") == nil)
        }
    }

    @Test func recreatesItsNodeWhenSomeoneDeletesIt() async throws {
        try await ZooKeeperServer.with { server in
            let (client, observer) = try await Self.clientAndObserver(server)
            defer { Task { await client.close(); await observer.close() } }
            let running = await Self.register("m1", on: client).1
            defer { running.cancel() }
            let first = try #require(try await observer.exists("\(Self.path)/m1"))
            try await observer.delete("\(Self.path)/m1")
            #expect(try await waitUntil(timeout: .seconds(10)) {
                guard let stat = try await observer.exists("\(Self.path)/m1") else { return false }
                return stat.czxid != first.czxid
            })
        }
    }

    @Test func survivesForcedExpiryAndWatchersSeeTheNodeAgain() async throws {
        try await ZooKeeperServer.with { server in
            let (client, observer) = try await Self.clientAndObserver(server)
            defer { Task { await client.close(); await observer.close() } }
            let running = Self.start(Registration(client: client, path: Self.path, record: Self.record("m1"), logger: Self.logger))
            defer { running.cancel() }
            let recorder = SnapshotRecorder(MembershipWatch(client: observer, path: Self.path, logger: Self.logger))
            defer { recorder.stop() }
            #expect(await recorder.waitFor { $0.members.map(\.id) == ["m1"] })
            let firstSession = client.sessionID

            let states = client.sessionStates()
            let expiredAt = Task { () -> ContinuousClock.Instant? in
                for await state in states where state == .expired { return ContinuousClock.now }
                return nil
            }
            try await ZooKeeperServer.expireSession(of: client)
            // The session's ephemerals are deleted and the registration re-creates its node in the
            // new session; the watcher ends with the node back, owned by the new session.
            #expect(await recorder.waitFor { _ in client.sessionID != firstSession })
            #expect(try await waitUntil(timeout: .seconds(20), interval: .milliseconds(2)) {
                guard recorder.latest?.members.map(\.id) == ["m1"] else { return false }
                return try await observer.exists("\(Self.path)/m1")?.ephemeralOwner == client.sessionID
            })
            let visibleAt = ContinuousClock.now
            if let expired = await expiredAt.value {
                print("measure: session expiry seen by the client -> re-created node visible to a watcher: \(visibleAt - expired)")
            }
            #expect(client.sessionID != firstSession)
            #expect(try await observer.exists("\(Self.path)/m1")?.ephemeralOwner == client.sessionID)
        }
    }

    @Test func survivesAZooKeeperRestart() async throws {
        try await ZooKeeperServer.with { server in
            let client = try await Self.client(server, sessionTimeout: .seconds(2))
            defer { Task { await client.close() } }
            let running = await Self.register("m1", on: client).1
            defer { running.cancel() }
            await server.stop()
            // Down longer than the session timeout: the session is gone when the server returns.
            try await Task.sleep(for: .seconds(3))
            try await server.start()
            let observer = try await Self.client(server)
            defer { Task { await observer.close() } }
            #expect(await waitUntil(timeout: .seconds(20)) {
                guard let stat = try? await observer.exists("\(Self.path)/m1") else { return false }
                return stat.ephemeralOwner == client.sessionID
            })
        }
    }

    @Test func fastRestartReplacesTheStaleNodeOfADeadSession() async throws {
        try await ZooKeeperServer.with { server in
            // The "previous run": its session is alive on the server for 30 s more.
            let previous = try await Self.client(server, sessionTimeout: .seconds(30))
            try await previous.create("\(Self.path)/m1", data: try Self.record("m1").encoded(), mode: .ephemeral, makeParents: true)
            let staleOwner = previous.sessionID

            let client = try await Self.client(server)
            defer { Task { await client.close(); await previous.close() } }
            let running = await Self.register("m1", on: client).1
            defer { running.cancel() }
            // The previous session is still alive (closed only at the end), so a node owned by the
            // new session proves the replacement did not wait for the old session to expire.
            let stat = try #require(try await client.exists("\(Self.path)/m1"))
            #expect(stat.ephemeralOwner == client.sessionID)
            #expect(stat.ephemeralOwner != staleOwner)
        }
    }

    @Test func adoptsItsOwnNodeAndLeavesAnotherMembersNodeAlone() async throws {
        try await ZooKeeperServer.with { server in
            let client = try await Self.client(server)
            let other = try await Self.client(server, sessionTimeout: .seconds(30))
            defer { Task { await client.close(); await other.close() } }
            // Ours already (same session): adopted, not re-created.
            try await client.create("\(Self.path)/mine", data: try Self.record("mine").encoded(), mode: .ephemeral, makeParents: true)
            let czxid = try #require(try await client.exists("\(Self.path)/mine")).czxid
            let running = await Self.register("mine", on: client).1
            defer { running.cancel() }
            #expect(try await client.exists("\(Self.path)/mine")?.czxid == czxid)

            // Same id, different address, another live session: a conflict, not ours to delete.
            try await other.create("\(Self.path)/taken", data: try Self.record("taken", port: 7000).encoded(), mode: .ephemeral)
            let handler = InMemoryLogHandler()
            let conflicting = Registration(
                client: client, path: Self.path, record: Self.record("taken", port: 6000),
                logger: Logger(label: "test.registration", factory: { _ in handler }))
            let running2 = Self.start(conflicting)
            defer { running2.cancel() }
            // Wait for the event, not for time: the conflict has been met and retried at least once.
            #expect(await waitUntil(timeout: .seconds(10)) {
                handler.entries.filter { "\($0.message)".contains("registration failed; will retry") }.count >= 2
            }, "\(handler.entries.map(\.message))")
            #expect(!conflicting.isSettled)
            #expect(try await client.exists("\(Self.path)/taken")?.ephemeralOwner == other.sessionID)
        }
    }
}
