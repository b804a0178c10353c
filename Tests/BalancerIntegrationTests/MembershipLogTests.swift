import Balancer
import Foundation
import Logging
import MusterBase
import Registry
import TestSupport
import Testing

/// Collects every log entry as the line a stream handler would print.
final class CollectingLogHandlerStore: @unchecked Sendable {
    // @unchecked: `lines` is only touched under `lock`.
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }
}

struct CollectingLogHandler: LogHandler {
    let store: CollectingLogHandlerStore
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        store.append("2026-12-01T00:00:00+0000 \(event.level) balancer: \(fields) [\(event.source)] \(event.message)\n")
    }
}

/// A balancer fed by a members path that holds 200 junk nodes beside good ones: each junk node
/// is logged once, escaped, however many membership changes follow (it used to log the whole
/// skipped list again on every change: 2.7 MB for 200 junk nodes and 40 changes).
@Suite("Balancer membership log with junk records (ZooKeeper)", .serialized, .timeLimit(.minutes(5)))
struct MembershipLogTests {
    static let path = "/muster/services/chat"

    static func junk(_ index: Int) -> [UInt8] {
        switch index % 4 {
        case 0: Array(#"{"version":1,"id":"junk-\#(index)","host":"10.0.0.1\nwarning balancer : forged","port":6000}"#.utf8)
        case 1: Array(#"{"version":1,"id":"junk-\#(index)","host":"\u001b[2Jx","port":6000}"#.utf8)
        case 2: Array(#"{"version":1,"id":"junk-\#(index)","host":"127.0.0.1:6000","port":6000,"weight":0}"#.utf8)
        default: Array("{not json".utf8)
        }
    }

    @Test func twoHundredJunkNodesAndFortyChanges() async throws {
        let zk = try await ZooKeeperServer.start()
        let writer = try ZooKeeperClient(configuration: ZooKeeperConfiguration(connectString: zk.connectString), logger: Logger(label: "w"))
        try await writer.waitUntilConnected(timeout: .seconds(20))
        let members = ServicePath.members(of: Self.path)
        try await writer.create(members, makeParents: true)
        try await writer.create("\(members)/good", data: try MemberRecord(id: "good", host: "127.0.0.1", port: 6000).encoded())
        for index in 0..<200 {
            try await writer.create("\(members)/junk-\(index)", data: Self.junk(index))
        }

        let store = CollectingLogHandlerStore()
        let logger = Logger(label: "balancer", factory: { _ in CollectingLogHandler(store: store) })
        let service = BalancerService(
            configuration: BalancerConfiguration(
                upstreams: [
                    // Panic threshold off: deleting 20 of 21 members within seconds is a storm it would
                    // answer with suspects; this test is about the log, not about panic.
                    UpstreamConfiguration(name: "chat", zookeeper: ZooKeeperSource(connectString: zk.connectString, path: Self.path, panicThreshold: 0))
                ],
                listeners: [.test(upstream: "chat")]),
            options: .init(adminAddress: "127.0.0.1:0", drainTimeout: .seconds(5), eventLoopThreads: 1),
            logger: logger)
        let task = Task { try await service.run() }
        await service.waitUntilStarted()
        func ids() -> [String] { service.membersReport().upstreams.first?.members.map(\.id) ?? [] }
        // The first listing reads 201 nodes; how long that takes on a loaded machine is not under
        // test (seen over 10 s at load 20), so the deadlines here only stop a hung watch.
        #expect(await waitUntil(timeout: .seconds(60)) { ids() == ["zk:good"] })

        for step in 0..<40 {
            let id = "new-\(step % 20)"
            if step < 20 {
                try await writer.create("\(members)/\(id)", data: try MemberRecord(id: id, host: "10.1.0.\(step)", port: 6000).encoded())
                #expect(await waitUntil(timeout: .seconds(30)) { ids().contains("zk:\(id)") })
            } else {
                try await writer.delete("\(members)/\(id)")
                #expect(await waitUntil(timeout: .seconds(30)) { !ids().contains("zk:\(id)") })
            }
        }
        let lines = store.all
        let bytes = lines.reduce(0) { $0 + $1.utf8.count }
        print("balancer log: \(lines.count) lines, \(bytes) bytes for 200 junk nodes and 40 changes")
        #expect(lines.filter { $0.contains("skipping invalid member record") }.count == 200)
        #expect(!lines.contains { $0.contains("member records ignored") })
        #expect(bytes < 200 * 400 + 40 * 400, "one line per junk node, one per change")
        for line in lines {
            #expect(!line.dropLast().contains("\n") && !line.unicodeScalars.contains("\u{1B}"), "a record forged or coloured a log line")
        }

        task.cancel()
        _ = try? await task.value
        await writer.close()
        await zk.stop()
    }
}
