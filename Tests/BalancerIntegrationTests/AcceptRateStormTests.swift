import Balancer
import Foundation
import MusterBase
import Registry
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue #11's reconnect storm against the `balancer` binary: 3,000 clients connecting at once to a
/// listener with `accept_rate 1000`. They wait in the kernel's accept queue (backlog 4096), so all
/// are served and none is refused, at the rate.
@Suite("accept_rate: a reconnect storm", .serialized, .timeLimit(.minutes(3)))
struct AcceptRateStormTests {
    static let clients = 3000
    static let rate = 1000
    static let burst = 0

    @Test("3,000 clients at once under accept_rate 1000: all served, none failed, no 1-second window above rate + burst")
    func storm() async throws {
        let backend = try StampingBackend()
        defer { backend.stop() }
        try await TestScene.with { scene in
            let run = try await BalancerProcess.start(in: scene, ["--log-level", "warning"]) { port in
                """
                worker_processes 2;
                stream {
                  upstream storm { server 127.0.0.1:\(backend.port); }
                  server {
                    listen 127.0.0.1:\(port) backlog=4096;
                    accept_rate \(Self.rate);
                    proxy_pass storm;
                  }
                }
                """
            }

            let outcome = await StormClients.run(count: Self.clients, port: run.port, deadline: .seconds(60))
            defer { for fd in outcome.sockets { close(fd) } }
            #expect(outcome.served == Self.clients, "served \(outcome.served), failed \(outcome.failed), waiting \(outcome.waiting)")
            #expect(outcome.failed == 0)

            let times = backend.acceptTimes
            #expect(times.count == Self.clients)
            guard let first = times.first, let last = times.last else { return }
            let most = StampingBackend.mostInWindow(times, window: 1_000_000_000)
            let seconds = Double(last - first) / 1e9
            print("MEASURED accept_rate \(Self.rate) storm: \(times.count) of \(Self.clients) served, at most \(most) in any 1 s window, all in \(String(format: "%.2f", seconds)) s")
            #expect(most <= Self.rate + Self.burst, "\(most) accepted in one second")
            // The rate did apply: 3,000 at 1,000/s take at least 2 s after the first second's share.
            let floor = Double(Self.clients - Self.rate - Self.burst - 1) / Double(Self.rate)
            #expect(seconds >= floor, "all \(times.count) in \(seconds) s")

            let metrics = String(decoding: try await AdminClient.get("/metrics", from: run.admin), as: UTF8.self)
            let pauses = metrics.split(separator: "\n").first { $0.hasPrefix("balancer_accept_pauses_total{upstream=\"storm\"}") }
            let count = pauses.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0
            #expect(count > 0, "no accept pauses in /metrics: \(pauses ?? "absent")")
            #expect(metrics.contains("balancer_connections_refused_total 0") || !metrics.contains("balancer_connections_refused_total"))
        }
    }
}
