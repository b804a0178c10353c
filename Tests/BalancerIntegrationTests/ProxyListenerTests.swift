import CoreMetrics
import Logging
import NIOCore
import NIOPosix
import ProxyEngine
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import Balancer

/// The listener's sockets on the engine: one shared by every worker, or one per worker on a shared
/// port with `reuseport`.
@Suite("Proxy listener", .timeLimit(.minutes(1)))
struct ProxyListenerTests {
    private static func target(backend: TestBackend, reusePort: Bool = false, tcpNoDelay: Bool = true) -> ListenerTarget {
        let upstream = UpstreamConfiguration(name: "backends", servers: [.backend(backend)])
        let upstreamGroup = UpstreamGroup(
            configuration: upstream, pool: MemberPool(configuration: upstream),
            metrics: GroupMetrics(upstream: "backends", factory: NOOPMetricsHandler.instance, workers: 3),
            logger: Logger(label: "listener-test"))
        var server = ListenerConfiguration.test()
        server.listenPort = 0
        server.reusePort = reusePort
        server.tcpNoDelay = tcpNoDelay
        return ListenerTarget(server: server, upstream: upstreamGroup)
    }

    private static func noDelay(_ fd: Int32) -> Int32 {
        var on: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, &length)
        return on
    }

    @Test("tcp_nodelay on and off are set on the listening socket, which accepted sockets inherit", arguments: [true, false])
    func tcpNoDelayOnListeningSocket(noDelay: Bool) async throws {
        try await TestScene.with { scene in
            let backend = try await scene.backend("a")
            let engine = try ProxyEngine(workers: 1)
            let listener = try ProxyListener.bind(target: Self.target(backend: backend, tcpNoDelay: noDelay), engine: engine)
            #expect((Self.noDelay(listener.sockets.fds[0]) != 0) == noDelay)
            #expect(try await TestClient.name(port: listener.port) == "a")
            #expect(await listener.close(shuttingDown: engine))
        }
    }

    @Test("with reuseport: one listening socket per worker, all on the port picked for port 0")
    func socketPerWorker() async throws {
        try await TestScene.with { scene in
            let backend = try await scene.backend("a")
            let engine = try ProxyEngine(workers: 3)
            let listener = try ProxyListener.bind(target: Self.target(backend: backend, reusePort: true), engine: engine)
            #expect(listener.sockets.fds.count == 3)
            #expect(listener.port != 0)
            // Clients through the shared port are proxied, whichever socket the kernel gives them to.
            for _ in 0..<12 {
                #expect(try await TestClient.name(port: listener.port) == "a")
            }
            #expect(backend.accepted == 12)
            await listener.close()
            // Nothing accepts on the port any more.
            await #expect(throws: (any Error).self) {
                _ = try await TestClient.name(port: listener.port)
            }
            #expect(await engine.waitUntilEmpty(timeout: .seconds(10)))
            await engine.shutdown()
        }
    }

    @Test("without reuseport: one listening socket for every worker, and a second listener on the port fails naming it")
    func singleSocket() async throws {
        try await TestScene.with { scene in
            let backend = try await scene.backend("a")
            let engine = try ProxyEngine(workers: 2)
            let listener = try ProxyListener.bind(target: Self.target(backend: backend), engine: engine)
            #expect(listener.sockets.fds.count == 1)
            for _ in 0..<6 {
                #expect(try await TestClient.name(port: listener.port) == "a")
            }
            var second = Self.target(backend: backend)
            second.server.listenPort = listener.port
            #expect(throws: EngineError.bind(address: "127.0.0.1:\(listener.port)", errno: EADDRINUSE)) {
                _ = try ProxyListener.bind(target: second, engine: engine)
            }
            #expect(
                EngineError.bind(address: "127.0.0.1:8000", errno: EADDRINUSE).description
                    == "listen 127.0.0.1:8000: address already in use")
            await listener.close()
            await engine.shutdown()
        }
    }

    @Test("a port taken by a socket without SO_REUSEPORT still fails the bind, and nothing is left bound")
    func portTaken() async throws {
        try await TestScene.with { scene in
            let backend = try await scene.backend("a")
            let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0).get()
            let port = try #require(taken.localAddress?.port)
            let engine = try ProxyEngine(workers: 2)
            var target = Self.target(backend: backend, reusePort: true)
            target.server.listenPort = port
            #expect(throws: EngineError.self) {
                _ = try ProxyListener.bind(target: target, engine: engine)
            }
            try await taken.close()
            await engine.shutdown()
        }
    }
}
