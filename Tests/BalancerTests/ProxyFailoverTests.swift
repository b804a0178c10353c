import Balancer
import Testing

/// Connect failures, proxy_next_upstream and passive health (max_fails/fail_timeout) through real sockets.
@Suite("Proxy failover", .timeLimit(.minutes(2)))
struct ProxyFailoverTests {
    /// A port nothing listens on: a backend that was started and stopped.
    private func deadPort() async throws -> Int {
        let backend = try await TestBackend.start(name: "dead")
        await backend.stop()
        return backend.port
    }

    private func member(_ balancer: RunningBalancer, port: Int) -> MemberStatus? {
        balancer.service.membersReport().upstreams.first?.members.first { $0.address == "127.0.0.1:\(port)" }
    }

    @Test("a dead member costs clients nothing with proxy_next_upstream on")
    func deadMemberIsSkipped() async throws {
        let a = try await TestBackend.start(name: "a")
        defer { Task { await a.stop() } }
        let dead = try await deadPort()
        let balancer = try await RunningBalancer.start(
            BalancerConfiguration(
                upstreams: [
                    UpstreamConfiguration(
                        name: "backends",
                        servers: [StaticServer(host: "127.0.0.1", port: dead), .backend(a)])
                ],
                servers: [.test()]))
        var names: [String: Int] = [:]
        for _ in 0..<20 {
            names[try await TestClient.name(port: balancer.port) ?? "closed", default: 0] += 1
        }
        #expect(names == ["a": 20])
        let deadStatus = try #require(member(balancer, port: dead))
        #expect(deadStatus.failures == 1)
        #expect(deadStatus.state == "unavailable")
        #expect(deadStatus.lastFailureReason != nil)
        #expect(deadStatus.active == 0)
        await balancer.stop()
    }

    @Test("proxy_next_upstream off: the one client that hit the dead member is closed, the rest are served")
    func nextUpstreamOff() async throws {
        let a = try await TestBackend.start(name: "a")
        defer { Task { await a.stop() } }
        let dead = try await deadPort()
        var server = ServerConfiguration.test()
        server.nextUpstream = false
        let balancer = try await RunningBalancer.start(
            BalancerConfiguration(
                upstreams: [
                    UpstreamConfiguration(name: "backends", servers: [StaticServer(host: "127.0.0.1", port: dead), .backend(a)])
                ],
                servers: [server]))
        var names: [String: Int] = [:]
        for _ in 0..<20 {
            names[try await TestClient.name(port: balancer.port) ?? "closed", default: 0] += 1
        }
        #expect(names == ["a": 19, "closed": 1])
        await balancer.stop()
    }

    @Test("proxy_next_upstream_tries bounds the attempts per client")
    func nextUpstreamTries() async throws {
        var deadServers: [StaticServer] = []
        for _ in 0..<3 {
            // max_fails=0: never marked unavailable, so every client walks the list.
            deadServers.append(StaticServer(host: "127.0.0.1", port: try await deadPort(), maxFails: 0))
        }
        var server = ServerConfiguration.test()
        server.nextUpstreamTries = 2
        let balancer = try await RunningBalancer.start(
            BalancerConfiguration(
                upstreams: [UpstreamConfiguration(name: "backends", servers: deadServers)], servers: [server]))
        for _ in 0..<5 {
            #expect(try await TestClient.name(port: balancer.port) == nil)
        }
        let failures = balancer.service.membersReport().upstreams[0].members.map(\.failures).reduce(0, +)
        #expect(failures == 10)
        await balancer.stop()
    }

    @Test("max_fails=2 fail_timeout=600ms: out after two failures, one trial after the timeout")
    func maxFailsFailTimeout() async throws {
        let a = try await TestBackend.start(name: "a")
        defer { Task { await a.stop() } }
        let dead = try await deadPort()
        let balancer = try await RunningBalancer.start(
            BalancerConfiguration(
                upstreams: [
                    UpstreamConfiguration(
                        name: "backends",
                        servers: [
                            StaticServer(host: "127.0.0.1", port: dead, maxFails: 2, failTimeout: .milliseconds(600)),
                            .backend(a),
                        ])
                ],
                servers: [.test()]))
        for _ in 0..<10 {
            #expect(try await TestClient.name(port: balancer.port) == "a")
        }
        let trippedAt = ContinuousClock.now
        var status = try #require(member(balancer, port: dead))
        #expect(status.failures == 2)
        #expect(status.state == "unavailable")

        #expect(await eventually(timeout: .seconds(5)) { member(balancer, port: dead)?.state == "up" })
        #expect(ContinuousClock.now - trippedAt >= .milliseconds(450))

        for _ in 0..<10 {
            #expect(try await TestClient.name(port: balancer.port) == "a")
        }
        status = try #require(member(balancer, port: dead))
        #expect(status.failures == 3)
        #expect(status.state == "unavailable")
        await balancer.stop()
    }

    @Test("no live upstreams: the client is closed at once and it is counted")
    func noLiveUpstreams() async throws {
        // Two members: like nginx, a lone member is never marked unavailable.
        let dead1 = try await deadPort()
        let dead2 = try await deadPort()
        let balancer = try await RunningBalancer.start(
            BalancerConfiguration(
                upstreams: [
                    UpstreamConfiguration(
                        name: "backends",
                        servers: [StaticServer(host: "127.0.0.1", port: dead1), StaticServer(host: "127.0.0.1", port: dead2)])
                ],
                servers: [.test()]))
        #expect(try await TestClient.name(port: balancer.port) == nil)  // both connects fail and mark them out
        let start = ContinuousClock.now
        for _ in 0..<5 {
            #expect(try await TestClient.name(port: balancer.port) == nil)
        }
        #expect(ContinuousClock.now - start < .seconds(1))
        let metrics = String(
            decoding: try await AdminClient.get("/metrics", from: HostPort(host: "127.0.0.1", port: balancer.adminPort)),
            as: UTF8.self)
        #expect(metrics.contains(#"balancer_no_live_upstreams_total{upstream="backends"} 6"#))
        #expect(metrics.contains(#"balancer_connect_failures_total{upstream="backends"} 2"#))
        await balancer.stop()
    }
}
