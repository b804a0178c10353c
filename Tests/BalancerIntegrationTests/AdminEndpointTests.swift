import Balancer
import Foundation
import MusterBase
import Registry
import TestSupport
import Testing

/// The admin endpoint and what `balancer members` prints from it.
@Suite("Admin endpoint and balancer members", .timeLimit(.minutes(1)))
struct AdminEndpointTests {
    @Test("GET /members, /healthz and /metrics on a running balancer")
    func endpoints() async throws {
        try await RunningBalancer.with(backends: "a", "b", weights: (2, 1)) { balancer, a, b in
            let admin = Endpoint(host: "127.0.0.1", port: balancer.adminPort)
            for _ in 0..<3 {
                _ = try await TestClient.name(port: balancer.port)
            }

            #expect(await waitUntil { balancer.sessionsClosed })
            let report = try await AdminClient.members(from: admin)
            #expect(report.listeners.count == 1)
            #expect(report.listeners[0].address == "127.0.0.1:\(balancer.port)")
            #expect(report.listeners[0].upstream == "backends")
            let upstream = try #require(report.upstreams.first)
            #expect(upstream.name == "backends")
            #expect(upstream.method == "round_robin")
            #expect(upstream.stale == false)
            #expect(upstream.zookeeper == nil)
            #expect(upstream.members.map(\.address) == ["127.0.0.1:\(a.port)", "127.0.0.1:\(b.port)"])
            #expect(upstream.members.map(\.weight) == [2, 1])
            #expect(upstream.members.map(\.total) == [2, 1])
            #expect(upstream.members.allSatisfy { $0.source == "static" && $0.state == "up" })
            #expect(report == balancer.service.membersReport())

            let health = String(decoding: try await AdminClient.get("/healthz", from: admin), as: UTF8.self)
            #expect(health == "ok\n")

            let metrics = String(decoding: try await AdminClient.get("/metrics", from: admin), as: UTF8.self)
            #expect(metrics.contains(#"balancer_connections_total{upstream="backends"} 3"#))
            #expect(metrics.contains(#"balancer_members{upstream="backends",state="up"} 2"#))
            #expect(metrics.contains(#"balancer_bytes_out_total{upstream="backends"} 6"#))

            await #expect(throws: AdminClient.Failure.self) {
                _ = try await AdminClient.get("/nope", from: admin)
            }
            await balancer.stop()
            await #expect(throws: AdminClient.Failure.self) {
                _ = try await AdminClient.members(from: admin)
            }
        }
    }

    @Test("a ZooKeeper source that cannot start is reported, and the group's static members keep serving")
    func membershipErrorReported() async throws {
        let auth = "/nonexistent/muster-auth"
        try await RunningBalancer.with(backend: "a", configuration: { .unreachableSource(beside: $0, authFile: auth) }) { balancer, a in
            #expect(await waitUntil { balancer.membershipError != nil })
            let upstream = balancer.service.membersReport().upstreams[0]
            #expect(upstream.zookeeper == "127.0.0.1:1 /muster/services/chat/members")
            #expect(try await TestClient.name(port: balancer.port) == "a")
            let table = MembersTable.render(balancer.service.membersReport())
            #expect(table.contains("membership error: "))

            // A reload retries a feed that could not start.
            try await balancer.service.reload(.unreachableSource(beside: a))
            #expect(await waitUntil { balancer.membershipError == nil })
        }
    }

    @Test("the admin client gives up on an endpoint that never answers")
    func adminClientTimeout() async throws {
        // Greets and echoes, never closes: not an HTTP answer.
        try await TestScene.with { scene in
            let stuck = try await scene.backend("stuck")
            // The endpoint never answers, so returning at all (with a failure) is the timeout at work.
            await #expect(throws: AdminClient.Failure.self) {
                _ = try await AdminClient.get("/members", from: Endpoint(host: "127.0.0.1", port: stuck.port), timeout: .milliseconds(300))
            }
        }
    }
}
