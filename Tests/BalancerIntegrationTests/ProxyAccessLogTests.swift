import Balancer
import Foundation
import MusterBase
import TestSupport
import Testing

/// `log_format` and `access_log` through the in-process balancer, read from config text: the line
/// each session leaves in the file when it closes.
@Suite("Proxy access log", .timeLimit(.minutes(2)))
struct ProxyAccessLogTests {
    /// A fresh folder for one test's log files.
    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("muster-access-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func balancer(log: String, member: String) async throws -> RunningBalancer {
        let text = """
            stream {
              log_format basic '$remote_addr $status $bytes_sent $bytes_received $upstream_addr';
              upstream backends { server \(member); }
              server { listen 127.0.0.1:0; proxy_pass backends; proxy_half_close on; access_log \(log) basic; }
            }
            """
        return try await RunningBalancer.start(try BalancerConfiguration.parse(text, file: "log.conf"))
    }

    static func lines(_ path: String) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test("a proxied session: one 200 line with the bytes each way and the member's address")
    func proxied() async throws {
        let backend = try await TestBackend.start(name: "a")
        defer { Task { await backend.stop() } }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let log = folder + "/access.log"
        let balancer = try await Self.balancer(log: log, member: "127.0.0.1:\(backend.port)")
        let received = try await TestClient.exchange(port: balancer.port, payload: Array("hello".utf8))
        // The backend greets ("a\n") and echoes: 7 bytes to the client, 5 from it.
        #expect(received == Array("a\nhello".utf8))
        #expect(await waitUntil { Self.lines(log).count == 2 })
        #expect(Self.lines(log) == ["127.0.0.1 200 7 5 127.0.0.1:\(backend.port)", ""])
        // The writer kept up: the dropped-records counter is exposed, at zero.
        let metrics = try await balancer.admin("/metrics")
        #expect(metrics.contains("\nbalancer_access_log_dropped_total 0\n"))
        await balancer.stop()
    }

    @Test("no member up: one 502 line with nothing sent and the group's name for $upstream_addr, as nginx")
    func noLiveMember() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let log = folder + "/access.log"
        let balancer = try await Self.balancer(log: log, member: "127.0.0.1:\(try freeLoopbackPort()) down")
        #expect(try await TestClient.name(port: balancer.port) == nil)
        // stop() writes what is queued: the line is there once the balancer is stopped.
        await balancer.stop()
        #expect(Self.lines(log) == ["127.0.0.1 502 0 0 backends", ""])
    }
}
