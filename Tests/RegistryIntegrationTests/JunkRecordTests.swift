import Foundation
import InMemoryLogging
import Logging
import MusterBase
import Registry
import Testing
import TestSupport

/// Junk member nodes beside good ones, through a real ZooKeeper: they are skipped, the good members
/// are served, and each junk node is logged once (not on every membership change), escaped.
@Suite("MembershipWatch with junk records", .serialized)
struct JunkRecordTests {
    static let path = "/muster/services/chat/members"

    /// 20 of each: hostile hosts, non-UTF-8 and duplicate-key records, bad weights.
    static func junk(_ index: Int) -> [UInt8] {
        let id = "junk-\(index)"
        func record(host: String, extra: String = "") -> [UInt8] {
            let escapedHost = host.unicodeScalars.map { $0.value < 0x20 ? String(format: "\\u%04x", $0.value) : String($0) }.joined()
            return Array(#"{"version":1,"id":"\#(id)","host":"\#(escapedHost)","port":6000\#(extra)}"#.utf8)
        }
        switch index % 10 {
        case 0: return record(host: "10.0.0.1\nwarning balancer : forged line")
        case 1: return record(host: "127.0.0.1\u{0}evil.example")
        case 2: return record(host: "\u{1B}[31mred\u{1B}[0m")
        case 3: return record(host: "evil\u{202E}moc.example")
        case 4: return record(host: "[::1]")
        case 5: return record(host: "127.0.0.1:6000")
        case 6: return Array(String(decoding: record(host: "10.0.0.1"), as: UTF8.self).utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        case 7: return record(host: "10.0.0.1", extra: #","host":"10.6.6.6""#)
        case 8: return record(host: "10.0.0.1", extra: #","weight":0"#)
        default: return Array("{not json \u{1B}[2J".utf8)
        }
    }

    /// A log entry as one stderr line of swift-log's StreamLogHandler would show it.
    static func rendered(_ entry: InMemoryLogHandler.Entry) -> String {
        let metadata = entry.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "2026-12-01T00:00:00+0000 \(entry.level) registry : \(metadata) \(entry.message)\n"
    }

    @Test func twoHundredJunkNodesAndFortyChangesLogEachJunkNodeOnce() async throws {
        try await ZooKeeperServer.with { server in
            let writer = try ZooKeeperClient(configuration: ZooKeeperConfiguration(connectString: server.connectString), logger: Logger(label: "w"))
            let reader = try ZooKeeperClient(configuration: ZooKeeperConfiguration(connectString: server.connectString), logger: Logger(label: "r"))
            defer { Task { await writer.close(); await reader.close() } }
            try await writer.waitUntilConnected(timeout: .seconds(20))
            try await reader.waitUntilConnected(timeout: .seconds(20))
            try await writer.create(Self.path, makeParents: true)
            for id in ["good-0", "good-1"] {
                try await writer.create("\(Self.path)/\(id)", data: try MemberRecord(id: id, host: "127.0.0.1", port: 6000).encoded())
            }
            for index in 0..<200 {
                try await writer.create("\(Self.path)/junk-\(index)", data: Self.junk(index))
            }
            // A hostile node name too (ZooKeeper allows U+202E in names).
            try await writer.create("\(Self.path)/evil\u{202E}name", data: try MemberRecord(id: "other", host: "10.0.0.1", port: 1).encoded())

            let handler = InMemoryLogHandler()
            var logger = Logger(label: "registry", factory: { _ in handler })
            logger.logLevel = .info
            let recorder = SnapshotRecorder(MembershipWatch(client: reader, path: Self.path, logger: logger))
            defer { recorder.stop() }
            #expect(await recorder.waitFor { $0.members.map(\.id) == ["good-0", "good-1"] && $0.skipped.count == 201 })

            // 40 membership changes: 20 members join, then leave, one at a time.
            for step in 0..<40 {
                let id = "new-\(step % 20)"
                if step < 20 {
                    try await writer.create("\(Self.path)/\(id)", data: try MemberRecord(id: id, host: "10.1.0.\(step)", port: 6000).encoded())
                    #expect(await recorder.waitFor { $0.members.contains { $0.id == id } })
                } else {
                    try await writer.delete("\(Self.path)/\(id)")
                    #expect(await recorder.waitFor { !$0.members.contains { $0.id == id } })
                }
            }
            #expect(recorder.latest?.members.map(\.id) == ["good-0", "good-1"])
            #expect(recorder.latest?.skipped.count == 201)

            let entries = handler.entries
            let skips = entries.filter { $0.level == .warning }
            #expect(skips.count == 201, "each junk node once")
            #expect(Set(skips.compactMap { $0.metadata["zk.node"].map { "\($0)" } }).count == 201)
            let lines = entries.map(Self.rendered)
            let bytes = lines.reduce(0) { $0 + $1.utf8.count }
            print("junk records: \(entries.count) log entries, \(bytes) bytes for 201 junk nodes and 40 changes")
            #expect(bytes < 201 * 400)
            for line in lines {
                // One line each, nothing a terminal would act on, nothing reordered.
                #expect(line.dropLast().allSatisfy { $0 != "\n" && $0 != "\r" }, "\(UntrustedText.escaped(line))")
                #expect(!line.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{0}" || $0 == "\u{202E}" }, "\(UntrustedText.escaped(line))")
            }
            #expect(lines.contains { $0.contains(#"host '10.0.0.1\nwarning balancer : forged line'"#) })

            // A junk node whose data changes (still junk) is logged once more; a fixed one joins.
            try await writer.setData("\(Self.path)/junk-0", data: Self.junk(10))
            try await writer.setData("\(Self.path)/junk-1", data: try MemberRecord(id: "junk-1", host: "10.0.0.1", port: 6000).encoded())
            #expect(await recorder.waitFor { $0.members.map(\.id) == ["good-0", "good-1", "junk-1"] })
            #expect(await waitUntil(timeout: .seconds(10), interval: .milliseconds(10)) {
                handler.entries.filter { $0.level == .warning }.count == 202
            })
        }
    }
}
