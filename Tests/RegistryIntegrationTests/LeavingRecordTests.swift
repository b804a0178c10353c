import Foundation
import Logging
import MusterBase
import Registry
import Testing
import TestSupport

@Suite("Leaving records", .serialized)
struct LeavingRecordTests {
    static let logger = Logger(label: "test.leaving")
    static let path = "/muster/services/chat/members"

    static func client(_ server: ZooKeeperServer) async throws -> ZooKeeperClient {
        try await server.client(sessionTimeout: .seconds(4), logger: logger)
    }

    static func leaving(_ observer: ZooKeeperClient, _ node: String) async -> String? {
        guard let data = try? await observer.getData(node).data else { return nil }
        return (try? MemberRecord.decode(data))?.leaving
    }

    @Test func deregisteringMarksTheRecordThenDeletesAfterTheGrace() async throws {
        try await ZooKeeperServer.with { server in
            let client = try await Self.client(server)
            let observer = try await Self.client(server)
            defer { Task { await client.close(); await observer.close() } }
            let node = "\(Self.path)/m1"
            let registration = Registration(
                client: client, path: Self.path, record: MemberRecord(id: "m1", host: "127.0.0.1", port: 6000),
                leaveGrace: .seconds(1), logger: Self.logger)
            let running = Task { try? await registration.run() }
            #expect(await registration.waitUntilSettled(timeout: .seconds(10)))
            #expect(await Self.leaving(observer, node) == nil)

            // The grace (1 s) runs from the request at the earliest, so the node cannot go sooner
            // after it. (Timed from when the observer *saw* the mark, a loaded machine could see it
            // late and make the grace look short.)
            let asked = ContinuousClock.now
            registration.setActive(false, leaving: "health: connection refused")
            #expect(await waitUntil(timeout: .seconds(5)) { await Self.leaving(observer, node) == "health: connection refused" })
            #expect(try await waitUntil(timeout: .seconds(5)) { try await observer.exists(node) == nil })
            #expect(ContinuousClock.now - asked >= .seconds(1))

            // Registering again writes the record without the mark.
            registration.setActive(true)
            #expect(await registration.waitUntilSettled(timeout: .seconds(10)))
            #expect(try await observer.exists(node) != nil)
            #expect(await Self.leaving(observer, node) == nil)

            // Shutdown: "shutdown", then the node goes before run() returns.
            running.cancel()
            #expect(await waitUntil(timeout: .seconds(5)) { await Self.leaving(observer, node) == "shutdown" })
            await running.value
            #expect(try await observer.exists(node) == nil)
        }
    }
}
