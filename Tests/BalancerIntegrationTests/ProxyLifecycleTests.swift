import Balancer
import Foundation
import MusterBase
import NIOCore
import Registry
import TestSupport
import Testing

/// Reload without dropping connections, bad config rejected, graceful drain.
@Suite("Proxy lifecycle", .timeLimit(.minutes(2)))
struct ProxyLifecycleTests {
    @Test("reload: changed upstream and a new listener apply, open connections keep talking, a bad file is rejected")
    func reload() async throws {
        try await TestScene.with { scene in
            let (a, b) = try await scene.backends("a", "b")
            let port1 = try freeLoopbackPort()
            let port2 = try freeLoopbackPort()
            let config = try scene.file(
                "balancer-test", suffix: ".conf",
                """
                stream {
                    upstream backends { server 127.0.0.1:\(a.port); }
                    server { listen 127.0.0.1:\(port1); proxy_pass backends; proxy_connect_timeout 1s; }
                }
                """)
            let path = config.path
            let balancer = try await scene.balancer(try BalancerConfiguration.load(path: path))
            #expect(balancer.port == port1)

            let connection = try await TestClient.connect(port: port1)
            try await connection.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                #expect(try await TestClient.read(2, from: &iterator) == Array("a\n".utf8))

                // Swap the group to b and add a second listener.
                try """
                stream {
                    upstream backends { server 127.0.0.1:\(b.port); }
                    server { listen 127.0.0.1:\(port1); proxy_pass backends; }
                    server { listen 127.0.0.1:\(port2); proxy_pass backends; }
                }
                """.write(toFile: path, atomically: true, encoding: .utf8)
                #expect(await balancer.service.reload(path: path))
                #expect(try await TestClient.name(port: port1) == "b")
                #expect(try await TestClient.name(port: port2) == "b")

                // The connection opened before the reload still reaches a.
                try await outbound.write(ByteBuffer(string: "still here"))
                #expect(try await TestClient.read(10, from: &iterator) == Array("still here".utf8))

                // A broken file changes nothing.
                try "stream { upstream backends { server 127.0.0.1:1 weight=x; } }"
                    .write(toFile: path, atomically: true, encoding: .utf8)
                #expect(await balancer.service.reload(path: path) == false)
                #expect(try await TestClient.name(port: port2) == "b")

                // The old member drains: shown until its last connection closes.
                let members = balancer.service.membersReport().upstreams[0].members
                #expect(members.first { $0.address == "127.0.0.1:\(a.port)" }?.active == 1)
            }
            #expect(await waitUntil {
                balancer.service.membersReport().upstreams[0].members.map(\.address) == ["127.0.0.1:\(b.port)"]
            })
        }
    }

    @Test("worker_connections caps open clients: the one over is closed at once and counted, a freed slot is reused, a reload raises the cap")
    func workerConnectionsLimit() async throws {
        try await TestScene.with { scene in
            let a = try await scene.backend("a")
            var configuration = BalancerConfiguration.backends([.backend(a)])
            configuration.workerConnections = 2
            let balancer = try await scene.balancer(configuration)
            let port = balancer.port

            // Two clients hold the two slots (each got its greeting, so each is proxied).
            var held: [Channel] = []
            for _ in 0..<2 {
                held.append(try #require(try await TestClient.hold(port: port)))
            }
            // The third is accepted by the kernel and closed without reaching a member.
            #expect(try await TestClient.hold(port: port) == nil)
            let metrics = try await balancer.admin("/metrics")
            #expect(metrics.contains("balancer_connections_refused_total 1"), "\(metrics)")

            // A closed client frees its slot (the balancer sees the close a moment later).
            try await held.removeLast().close()
            held.append(try #require(try await Self.holdEventually(port: port)))
            #expect(try await TestClient.hold(port: port) == nil)

            // A reload with a higher cap applies to new clients; the held ones are untouched.
            configuration.workerConnections = 3
            try await balancer.service.reload(configuration)
            held.append(try #require(try await TestClient.hold(port: port)))
            #expect(try await TestClient.hold(port: port) == nil)
            #expect(held.allSatisfy { $0.isActive })

            for channel in held {
                try? await channel.close()
            }
        }
    }

    /// Retries `TestClient.hold` until a slot is free (bounded).
    private static func holdEventually(port: Int) async throws -> Channel? {
        var channel: Channel?
        _ = try await waitUntil(interval: .milliseconds(20)) {
            channel = try await TestClient.hold(port: port)
            return channel != nil
        }
        return channel
    }

    @Test("reloads that overlap take turns: the same new listener is bound once, both succeed")
    func concurrentReloads() async throws {
        try await RunningBalancer.with(backend: "a") { balancer, a in
            let extraPort = try freeLoopbackPort()
            var extra = ListenerConfiguration.test()
            extra.listenPort = extraPort
            let next = BalancerConfiguration.backends([.backend(a)], listeners: [.test(), extra])
            let service = balancer.service
            async let first: Void = service.reload(next)
            async let second: Void = service.reload(next)
            _ = try await (first, second)
            #expect(try await TestClient.name(port: extraPort) == "a")
            #expect(balancer.service.membersReport().listeners.count == 2)
        }
    }

    @Test("a reload whose new listener cannot bind is rejected as a whole")
    func reloadBindFailure() async throws {
        try await TestScene.with { scene in
            let (a, b) = try await scene.backends("a", "b")
            let balancer = try await scene.balancer(backends: [.backend(a)])
            // b's port is taken, so binding a listener there fails.
            var taken = ListenerConfiguration.test()
            taken.listenPort = b.port
            let current = ListenerConfiguration.test()
            await #expect(throws: (any Error).self) {
                try await balancer.service.reload(
                    BalancerConfiguration.backends([.backend(b)], listeners: [current, taken]))
            }
            #expect(try await TestClient.name(port: balancer.port) == "a")
        }
    }

    @Test("graceful shutdown stops accepting, lets open connections finish, closes them at the drain deadline")
    func drain() async throws {
        // 3 s: with 800 ms the echo below once came after the deadline on a loaded machine.
        try await RunningBalancer.with(backend: "a", drainTimeout: .seconds(3)) { balancer, _ in
            let connection = try await TestClient.connect(port: balancer.port)
            try await connection.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                #expect(try await TestClient.read(2, from: &iterator) == Array("a\n".utf8))
                let start = ContinuousClock.now
                balancer.service.triggerGracefulShutdown()
                // New clients are refused once the listener is closed.
                #expect(await waitUntil(timeout: .seconds(2)) {
                    await !TestClient.canConnect(port: balancer.port)
                })
                // The open one still works during the drain...
                try await outbound.write(ByteBuffer(string: "ping"))
                #expect(try await TestClient.read(4, from: &iterator) == Array("ping".utf8))
                // ...and is closed at the deadline.
                #expect(try await TestClient.read(1, from: &iterator).isEmpty)
                let elapsed = ContinuousClock.now - start
                #expect(elapsed >= .milliseconds(2900))
            }
            _ = try await balancer.task.value
        }
    }
}
