import Balancer
import Foundation
import MusterBase
import TestSupport
import Testing

/// `log_format` and `access_log` through the in-process balancer, read from config text: the line
/// each session leaves in the file when it closes.
@Suite("Proxy access log", .timeLimit(.minutes(2)))
struct ProxyAccessLogTests {
    /// A balancer whose one listener logs each session in the format "basic" to a fresh file, its
    /// group's one member backend "a" (a server line's `flags` after the address): the balancer,
    /// the log's path and the backend, taken down after `body`.
    static func with(
        memberFlags flags: String = "", _ body: (RunningBalancer, _ log: String, TestBackend) async throws -> Void
    ) async throws {
        try await TestScene.with { scene in
            let backend = try await scene.backend("a")
            let log = try scene.folder("muster-access") + "/access.log"
            let balancer = try await scene.balancer(
                config: """
                    stream {
                      log_format basic '$remote_addr $status $bytes_sent $bytes_received $upstream_addr';
                      upstream backends { server 127.0.0.1:\(backend.port) \(flags); }
                      server { listen 127.0.0.1:0; proxy_pass backends; proxy_half_close on; access_log \(log) basic; }
                    }
                    """,
                file: "log.conf")
            try await body(balancer, log, backend)
        }
    }

    static func lines(_ path: String) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test("a proxied session: one 200 line with the bytes each way and the member's address")
    func proxied() async throws {
        try await Self.with { balancer, log, backend in
            let received = try await TestClient.exchange(port: balancer.port, payload: Array("hello".utf8))
            // The backend greets ("a\n") and echoes: 7 bytes to the client, 5 from it.
            #expect(received == Array("a\nhello".utf8))
            #expect(await waitUntil { Self.lines(log).count == 2 })
            #expect(Self.lines(log) == ["127.0.0.1 200 7 5 127.0.0.1:\(backend.port)", ""])
            // The writer kept up: the dropped-records counter is exposed, at zero.
            let metrics = try await balancer.admin("/metrics")
            #expect(metrics.contains("\nbalancer_access_log_dropped_total 0\n"))
        }
    }

    @Test("no member up: one 502 line with nothing sent and the group's name for $upstream_addr, as nginx")
    func noLiveMember() async throws {
        // Marked throwing: its only `try`s are inside #expect, which the closure's effect inference does not see.
        try await Self.with(memberFlags: "down") { (balancer, log, _) async throws in
            #expect(try await TestClient.name(port: balancer.port) == nil)
            // stop() writes what is queued: the line is there once the balancer is stopped.
            await balancer.stop()
            #expect(Self.lines(log) == ["127.0.0.1 502 0 0 backends", ""])
        }
    }
}
