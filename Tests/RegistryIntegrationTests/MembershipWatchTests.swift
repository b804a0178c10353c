import Foundation
import Logging
import MusterBase
import Registry
import Testing
import TestSupport

@Suite("MembershipWatch", .serialized)
struct MembershipWatchTests {
    static let logger = Logger(label: "test.membership")
    static let path = "/muster/services/chat/members"

    /// A client that writes the members and one that watches them, both of `server`.
    static func writerAndReader(
        _ server: ZooKeeperServer, sessionTimeout: Duration = .seconds(4)
    ) async throws -> (ZooKeeperClient, ZooKeeperClient) {
        (
            try await server.client(sessionTimeout: sessionTimeout, logger: logger),
            try await server.client(sessionTimeout: sessionTimeout, logger: logger)
        )
    }

    /// Records every snapshot of a watch of the members path through `reader`.
    static func recorder(_ reader: ZooKeeperClient, auditInterval: Duration = .seconds(30)) -> SnapshotRecorder {
        SnapshotRecorder(MembershipWatch(client: reader, path: path, auditInterval: auditInterval, logger: logger))
    }

    static func record(_ id: String, port: Int = 6000, weight: Int = 1, draining: Bool = false) -> MemberRecord {
        MemberRecord(id: id, host: "127.0.0.1", port: port, weight: weight, draining: draining)
    }

    @Test func seesAddsRemovalsAndDataChangesInOrder() async throws {
        try await ZooKeeperServer.with { server in
            let (writer, reader) = try await Self.writerAndReader(server)
            defer { Task { await writer.close(); await reader.close() } }
            let recorder = Self.recorder(reader)
            defer { recorder.stop() }

            // The path does not exist yet: an authoritative empty set.
            #expect(await recorder.waitFor { $0.members.isEmpty && !$0.stale })
            try await writer.create("\(Self.path)/a", data: try Self.record("a").encoded(), mode: .ephemeral, makeParents: true)
            #expect(await recorder.waitFor { $0.members.map(\.id) == ["a"] })
            try await writer.create("\(Self.path)/b", data: try Self.record("b", port: 6001).encoded(), mode: .ephemeral)
            #expect(await recorder.waitFor { $0.members.map(\.id) == ["a", "b"] })
            try await writer.setData("\(Self.path)/a", data: try Self.record("a", weight: 3, draining: true).encoded())
            #expect(await recorder.waitFor { $0.members.first == Self.record("a", weight: 3, draining: true) })
            try await writer.delete("\(Self.path)/b")
            #expect(await recorder.waitFor { $0.members.map(\.id) == ["a"] })

            // Each change appears once, in the order made; nothing is ever stale here.
            let steps = recorder.snapshots.map { $0.members.map { "\($0.id):\($0.weight)" } }
            #expect(steps == [[], ["a:1"], ["a:1", "b:1"], ["a:3", "b:1"], ["a:3"]])
            #expect(recorder.snapshots.allSatisfy { !$0.stale })
        }
    }

    /// The periodic listing (here every 20 ms, so many run during the test) adds no snapshot of its
    /// own and loses no change.
    @Test func periodicListingsChangeNothingVisible() async throws {
        try await ZooKeeperServer.with { server in
            let (writer, reader) = try await Self.writerAndReader(server)
            defer { Task { await writer.close(); await reader.close() } }
            try await writer.create(Self.path, makeParents: true)
            let recorder = Self.recorder(reader, auditInterval: .milliseconds(20))
            defer { recorder.stop() }
            #expect(await recorder.waitFor { $0.members.isEmpty && !$0.stale })
            for round in 0..<5 {
                try await writer.create("\(Self.path)/m\(round)", data: try Self.record("m\(round)").encoded(), mode: .ephemeral)
                #expect(await recorder.waitFor { $0.members.count == round + 1 })
            }
            try await writer.delete("\(Self.path)/m0")
            #expect(await recorder.waitFor { $0.members.map(\.id) == ["m1", "m2", "m3", "m4"] })
            #expect(recorder.snapshots.map(\.members.count) == [0, 1, 2, 3, 4, 5, 4])
        }
    }

    @Test func burstOfFiftyRegistrationsEndsInTheFinalState() async throws {
        try await ZooKeeperServer.with { server in
            let (writer, reader) = try await Self.writerAndReader(server)
            defer { Task { await writer.close(); await reader.close() } }
            try await writer.create(Self.path, makeParents: true)
            let recorder = Self.recorder(reader)
            defer { recorder.stop() }
            #expect(await recorder.waitFor { $0.members.isEmpty })

            let ids = (0..<50).map { String(format: "m%02d", $0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, id) in ids.enumerated() {
                    group.addTask {
                        try await writer.create("\(Self.path)/\(id)", data: try Self.record(id, port: 7000 + index).encoded(),
                                                mode: .ephemeral)
                    }
                }
                try await group.waitForAll()
            }
            #expect(await recorder.waitFor { $0.members.map(\.id) == ids })
            #expect(recorder.latest?.members.map(\.port) == (0..<50).map { 7000 + $0 })

            // And a burst of removals and re-weights.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, id) in ids.enumerated() {
                    group.addTask {
                        if index % 2 == 0 {
                            try await writer.delete("\(Self.path)/\(id)")
                        } else {
                            try await writer.setData("\(Self.path)/\(id)", data: try Self.record(id, port: 7000 + index, weight: 9).encoded())
                        }
                    }
                }
                try await group.waitForAll()
            }
            let odd = ids.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
            #expect(await recorder.waitFor { $0.members.map(\.id) == odd && $0.members.allSatisfy { $0.weight == 9 } })
        }
    }

    @Test func skipsMalformedRecords() async throws {
        try await ZooKeeperServer.with { server in
            let (writer, reader) = try await Self.writerAndReader(server)
            defer { Task { await writer.close(); await reader.close() } }
            try await writer.create("\(Self.path)/good", data: try Self.record("good").encoded(), makeParents: true)
            try await writer.create("\(Self.path)/garbage", data: Array("{not json".utf8))
            try await writer.create("\(Self.path)/empty")
            try await writer.create("\(Self.path)/huge", data: Array(repeating: 0x20, count: MemberLimits.maximumRecordSize + 10))
            try await writer.create("\(Self.path)/misnamed", data: try Self.record("other").encoded())
            let recorder = Self.recorder(reader)
            defer { recorder.stop() }
            #expect(await recorder.waitFor {
                $0.members.map(\.id) == ["good"] && $0.skipped == ["empty", "garbage", "huge", "misnamed"]
            })
            // Fixing a bad record brings it in.
            try await writer.setData("\(Self.path)/garbage", data: try Self.record("garbage", port: 6001).encoded())
            #expect(await recorder.waitFor { $0.members.map(\.id) == ["garbage", "good"] })
        }
    }

    @Test func keepsTheLastSetMarkedStaleWhileZooKeeperIsDown() async throws {
        try await ZooKeeperServer.with { server in
            let (writer, reader) = try await Self.writerAndReader(server, sessionTimeout: .seconds(30))
            defer { Task { await writer.close(); await reader.close() } }
            try await writer.create("\(Self.path)/a", data: try Self.record("a").encoded(), mode: .ephemeral, makeParents: true)
            let recorder = Self.recorder(reader)
            defer { recorder.stop() }
            #expect(await recorder.waitFor { $0.members.map(\.id) == ["a"] })

            await server.stop()
            #expect(await recorder.waitFor { $0.stale })
            #expect(recorder.latest?.members.map(\.id) == ["a"])
            try await server.start()
            #expect(await recorder.waitFor(timeout: .seconds(30)) { !$0.stale && $0.members.map(\.id) == ["a"] })
            // Never an empty set on the way.
            #expect(recorder.snapshots.allSatisfy { $0.members.map(\.id) == ["a"] })
        }
    }
}
