import Foundation
import InMemoryLogging
import Logging
import Registry
import Testing
import TestSupport

/// NOAUTH through a real ZooKeeper: digest login never fails, so wrong credentials are another
/// identity, and only the ACL check says so.
@Suite("NOAUTH on the members path", .serialized)
struct AuthorizationTests {
    static let path = "/muster/services/chat/members"
    static let logger = Logger(label: "test.auth")

    static func client(_ server: ZooKeeperServer, _ credentials: DigestCredentials?) async throws -> ZooKeeperClient {
        try await server.client(credentials: credentials, logger: logger)
    }

    /// A client of `owner` that has created the members path with member "a" in it (open ACLs yet).
    static func admin(_ server: ZooKeeperServer, _ owner: DigestCredentials) async throws -> ZooKeeperClient {
        let admin = try await client(server, owner)
        try await admin.create(path, makeParents: true)
        try await admin.create("\(path)/a", data: try MemberRecord(id: "a", host: "10.0.0.1", port: 6000).encoded())
        return admin
    }

    /// Credentials as an agent or a balancer loads them: from a file.
    static func credentialsFile(_ text: String) throws -> (DigestCredentials, String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("muster-auth-\(UUID().uuidString)").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return (try DigestCredentials.load(fromFile: file), file)
    }

    @Test func aWatchWhoseReadIsDeniedReportsItAndIsNeverAnEmptyHealthyGroup() async throws {
        try await ZooKeeperServer.with { server in
            let (owner, _) = try Self.credentialsFile("agent:right-password\n")
            let (wrong, wrongFile) = try Self.credentialsFile("agent:wrong-password\n")
            defer { try? FileManager.default.removeItem(atPath: wrongFile) }
            #expect(wrong.file == wrongFile)
            let admin = try await Self.admin(server, owner)
            defer { Task { await admin.close() } }
            try await admin.setACL(Self.path, [.digest(owner, .all)])

            let reader = try await Self.client(server, wrong)
            defer { Task { await reader.close() } }
            let recorder = SnapshotRecorder(MembershipWatch(client: reader, path: Self.path, logger: Self.logger))
            defer { recorder.stop() }
            #expect(await recorder.waitFor { $0.error != nil })
            let snapshot = try #require(recorder.latest)
            #expect(snapshot.stale, "a denied read is not authoritative")
            #expect(snapshot.members.isEmpty)
            guard case .notAuthorized(let denied) = snapshot.error else {
                Issue.record("expected notAuthorized, got \(String(describing: snapshot.error))")
                return
            }
            #expect(denied.path == Self.path)
            #expect(denied.operation == "children")
            let message = "\(denied)"
            #expect(message.contains(Self.path) && message.contains(wrongFile) && message.contains("'agent'"), "\(message)")
            #expect(!message.contains("wrong-password") && !message.contains("right-password"))
            // No snapshot ever claimed an authoritative empty set.
            #expect(recorder.snapshots.allSatisfy { $0.stale })

            // The ACL fixed (world-readable again): the retry, with backoff, reads it.
            try await admin.setACL(Self.path, [.digest(owner, .all), .world(.read)])
            #expect(await recorder.waitFor(timeout: .seconds(15)) { !$0.stale && $0.error == nil && $0.members.map(\.id) == ["a"] })
        }
    }

    @Test func aWatchThatLosesReadAccessKeepsItsLastMembers() async throws {
        try await ZooKeeperServer.with { server in
            let owner = DigestCredentials(user: "agent", password: "right")
            let admin = try await Self.admin(server, owner)
            defer { Task { await admin.close() } }

            let handler = InMemoryLogHandler()
            let logger = Logger(label: "balancer", factory: { _ in handler })
            let reader = try await Self.client(server, nil)
            defer { Task { await reader.close() } }
            let recorder = SnapshotRecorder(
                MembershipWatch(client: reader, path: Self.path, auditInterval: .milliseconds(300), logger: logger))
            defer { recorder.stop() }
            #expect(await recorder.waitFor { $0.members.map(\.id) == ["a"] && !$0.stale })

            // Read access withdrawn, and a change. ZooKeeper tells this client nothing (no READ, no
            // event): the periodic listing finds out.
            try await admin.setACL(Self.path, [.digest(owner, .all)])
            try await admin.create("\(Self.path)/b", data: try MemberRecord(id: "b", host: "10.0.0.2", port: 6000).encoded())
            #expect(await recorder.waitFor { $0.error != nil }, "\(recorder.snapshots) \(handler.entries.map(\.message))")
            let snapshot = try #require(recorder.latest)
            #expect(snapshot.stale && snapshot.members.map(\.id) == ["a"], "the last members are kept")
            #expect("\(snapshot.error.map { "\($0)" } ?? "")".contains("a client without credentials"))

            // Retried with backoff, logged once while it lasts: wait until the server has seen three
            // more requests from the reader (its retries and listings, all denied), not for time.
            let denied = try #require(await server.lastRequestID(ofSession: reader.sessionID))
            #expect(await waitUntil(timeout: .seconds(15)) {
                (await server.lastRequestID(ofSession: reader.sessionID) ?? 0) >= denied + 3
            })
            let failures = handler.entries.filter { $0.level == .error }
            #expect(failures.count == 1, "\(failures.map(\.message))")
            try await admin.setACL(Self.path, [.digest(owner, .all), .world(.read)])
            #expect(await recorder.waitFor(timeout: .seconds(15)) { !$0.stale && $0.members.map(\.id) == ["a", "b"] })
        }
    }

    @Test func aMemberNodeThatMayNotBeReadIsSkippedNotTheGroup() async throws {
        try await ZooKeeperServer.with { server in
            let owner = DigestCredentials(user: "agent", password: "right")
            let admin = try await Self.admin(server, owner)
            defer { Task { await admin.close() } }
            try await admin.create("\(Self.path)/hidden", data: try MemberRecord(id: "hidden", host: "10.0.0.2", port: 6000).encoded(),
                                   acl: .creatorAll)
            let reader = try await Self.client(server, nil)
            defer { Task { await reader.close() } }
            let recorder = SnapshotRecorder(MembershipWatch(client: reader, path: Self.path, logger: Self.logger))
            defer { recorder.stop() }
            #expect(await recorder.waitFor { $0.members.map(\.id) == ["a"] && $0.skipped == ["hidden"] && !$0.stale && $0.error == nil })
        }
    }
}
