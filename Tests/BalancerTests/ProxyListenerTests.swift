import CoreMetrics
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import Balancer

/// The listener's sockets (one per event loop on a shared port) and the receive buffer it gives
/// proxied sockets.
@Suite("Proxy listener", .timeLimit(.minutes(1)))
struct ProxyListenerTests {
    private static func target(backend: TestBackend, reusePort: Bool = false, tcpNoDelay: Bool = true) -> ListenerTarget {
        let upstream = UpstreamConfiguration(name: "backends", servers: [.backend(backend)])
        let runtime = UpstreamRuntime(
            configuration: upstream, pool: UpstreamPool(configuration: upstream),
            metrics: UpstreamMetrics(upstream: "backends", factory: NOOPMetricsHandler.instance),
            logger: Logger(label: "listener-test"))
        var server = ServerConfiguration.test()
        server.reusePort = reusePort
        server.tcpNoDelay = tcpNoDelay
        return ListenerTarget(server: server, upstream: runtime)
    }

    @Test("tcp_nodelay on and off reach the accepted client sockets", arguments: [true, false])
    func tcpNoDelayOnAcceptedSockets(noDelay: Bool) async throws {
        let backend = try await TestBackend.start(name: "a")
        defer { Task { await backend.stop() } }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let connections = ConnectionRegistry()
        let listener = try await ProxyListener.bind(
            target: Self.target(backend: backend, tcpNoDelay: noDelay), group: group, connections: connections)
        let port = try #require(listener.channel.localAddress?.port)
        let client = try #require(try await TestClient.hold(port: port))
        let accepted = try #require(connections.channels.first)
        let option = try await accepted.getOption(.tcpOption(.tcp_nodelay)).get()
        #expect((option != 0) == noDelay)
        try await client.close()
        await listener.close()
        #expect(await eventually { connections.count == 0 })
        try await group.shutdownGracefully()
    }

    @Test("with reuseport: one listening socket per event loop, all on the port picked for port 0, each loop accepting its own")
    func socketPerLoop() async throws {
        let backend = try await TestBackend.start(name: "a")
        defer { Task { await backend.stop() } }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        let connections = ConnectionRegistry()
        let listener = try await ProxyListener.bind(
            target: Self.target(backend: backend, reusePort: true), group: group, connections: connections)

        #expect(listener.channels.count == 3)
        let ports = Set(listener.channels.compactMap { $0.localAddress?.port })
        #expect(ports.count == 1)
        #expect(ports.first != 0)
        #expect(listener.channel === listener.channels[0])
        let loops = Set(listener.channels.map { ObjectIdentifier($0.eventLoop) })
        #expect(loops.count == 3)

        // Clients through the shared port are proxied, whichever socket the kernel gives them to.
        let port = try #require(listener.channel.localAddress?.port)
        for _ in 0..<12 {
            #expect(try await TestClient.name(port: port) == "a")
        }
        #expect(backend.accepted == 12)

        await listener.close()
        for channel in listener.channels {
            #expect(await eventually { !channel.isActive })
        }
        // Nothing accepts on the port any more.
        await #expect(throws: (any Error).self) {
            _ = try await TestClient.name(port: port)
        }
        #expect(await eventually { connections.count == 0 })
        try await group.shutdownGracefully()
    }

    @Test("without reuseport: one listening socket, clients spread over the loops, and a second listener on the port fails")
    func singleSocket() async throws {
        let backend = try await TestBackend.start(name: "a")
        defer { Task { await backend.stop() } }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let listener = try await ProxyListener.bind(
            target: Self.target(backend: backend), group: group, connections: ConnectionRegistry())
        #expect(listener.channels.count == 1)
        let port = try #require(listener.channel.localAddress?.port)
        for _ in 0..<6 {
            #expect(try await TestClient.name(port: port) == "a")
        }
        // Another balancer on the same port is refused rather than sharing the clients.
        var second = Self.target(backend: backend)
        second.server.listenPort = port
        await #expect(throws: (any Error).self) {
            _ = try await ProxyListener.bind(target: second, group: group, connections: ConnectionRegistry())
        }
        await listener.close()
        try await group.shutdownGracefully()
    }

    @Test("a port taken by a socket without SO_REUSEPORT still fails the bind, and nothing is left bound")
    func portTaken() async throws {
        let backend = try await TestBackend.start(name: "a")
        defer { Task { await backend.stop() } }
        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(taken.localAddress?.port)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var target = Self.target(backend: backend, reusePort: true)
        target.server.listenPort = port
        await #expect(throws: (any Error).self) {
            _ = try await ProxyListener.bind(target: target, group: group, connections: ConnectionRegistry())
        }
        try await taken.close()
        try await group.shutdownGracefully()
    }

    @Test("proxied sockets start with a 512-byte receive buffer and grow it for bulk reads")
    func receiveBuffer() {
        var allocator = ProxyListener.receiveAllocator
        #expect(allocator.nextBufferSize() == 512)
        // Every read that fills the buffer doubles it: 64 KiB after seven full reads.
        var fullReads = 0
        while (allocator.nextBufferSize() ?? 0) < 65536, fullReads < 20 {
            _ = allocator.record(actualReadBytes: allocator.nextBufferSize() ?? 0)
            fullReads += 1
        }
        #expect(fullReads == 7)
        #expect(allocator.nextBufferSize() == 65536)
    }
}
