#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The listening sockets of one `listen`: one socket whose accepted clients are spread over the
/// event loops, or, with `listen ... reuseport`, one socket per event loop sharing the port through
/// `SO_REUSEPORT`.
///
/// With a single listening socket, one event loop accepts every client and hands half of them to
/// the other loop (a cross-thread task and a wake-up per connection). With one socket per loop the
/// kernel spreads new connections over the loops and each accepts its own clients, as nginx workers
/// with `reuseport` do (+5 % connections/s, bench/RESULTS.md). It is opt-in, as in nginx, because
/// any other process of the same user could then bind the port too and silently take a share of
/// the clients instead of failing with "address in use".
final class ProxyListener: Sendable {
    /// "host:port" as configured; listeners are matched by it across reloads.
    let key: String
    /// The first listening socket; its local address is the listener's (the port, when 0 was configured).
    let channel: Channel
    /// Every listening socket, `channel` first.
    let channels: [Channel]
    private let target: NIOLockedValueBox<ListenerTarget>

    private init(key: String, channels: [Channel], target: NIOLockedValueBox<ListenerTarget>) {
        self.key = key
        self.channel = channels[0]
        self.channels = channels
        self.target = target
    }

    static func key(for server: ServerConfiguration) -> String {
        "\(server.listenHost):\(server.listenPort)"
    }

    var currentTarget: ListenerTarget {
        self.target.withLockedValue { $0 }
    }

    /// Points new connections at new settings; established ones keep what they started with.
    func update(_ target: ListenerTarget) {
        self.target.withLockedValue { $0 = target }
    }

    /// The receive buffer each proxied socket starts with. NIO keeps a socket's last receive buffer
    /// for the next read, so an idle connection holds one per side: NIO's default of 2 KiB per side
    /// is most of an idle connection's memory. 512 bytes hold a chat line, and the adaptive allocator
    /// doubles the buffer on every read that fills it (64 KiB after seven), so bulk transfers are not slowed.
    static let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536)

    static let reusePort = ChannelOptions.Types.SocketOption(
        level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET), name: NIOBSDSocket.Option(rawValue: SO_REUSEPORT))

    static func bind(
        target: ListenerTarget,
        group: any EventLoopGroup,
        connections: ConnectionRegistry
    ) async throws -> ProxyListener {
        let server = target.server
        let box = NIOLockedValueBox(target)
        var channels: [Channel] = []
        do {
            var port = server.listenPort
            let loops: [any EventLoop] = server.reusePort ? Array(group.makeIterator()) : [group.next()]
            for loop in loops {
                let channel = try await Self.bindOne(
                    loop: loop, childGroup: server.reusePort ? loop : group, reusePort: server.reusePort,
                    host: server.listenHost, port: port, backlog: server.backlog, box: box,
                    connections: connections)
                channels.append(channel)
                // Port 0 picks a free port once; the other loops' sockets join that one.
                if port == 0, let bound = channel.localAddress?.port {
                    port = bound
                }
            }
        } catch {
            for channel in channels {
                try? await channel.close()
            }
            throw error
        }
        return ProxyListener(key: Self.key(for: server), channels: channels, target: box)
    }

    private static func bindOne(
        loop: any EventLoop,
        childGroup: any EventLoopGroup,
        reusePort: Bool,
        host: String,
        port: Int,
        backlog: Int,
        box: NIOLockedValueBox<ListenerTarget>,
        connections: ConnectionRegistry
    ) async throws -> Channel {
        try await ServerBootstrap(group: loop, childGroup: childGroup)
            .serverChannelOption(.backlog, value: Int32(clamping: backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(Self.reusePort, value: reusePort ? 1 : 0)
            .childChannelInitializer { channel in
                // Over `worker_connections`: failing the initializer makes NIO close the accepted socket.
                guard connections.admit(channel) else {
                    return channel.eventLoop.makeFailedFuture(ConnectionLimitReached())
                }
                let target = box.withLockedValue { $0 }
                return channel.eventLoop.makeCompletedFuture {
                    // Set here rather than as child channel options: each of those is one more
                    // future in NIO's per-accept set-up chain. tcp_nodelay is read per connection,
                    // so a reload that flips it applies to new clients. Accepted sockets inherit
                    // TCP_NODELAY from the listening socket, which ServerBootstrap turns on: only
                    // `tcp_nodelay off` costs a syscall per client.
                    let options = channel.syncOptions
                    try options?.setOption(.allowRemoteHalfClosure, value: true)
                    try options?.setOption(.recvAllocator, value: Self.receiveAllocator)
                    if !target.server.tcpNoDelay {
                        try options?.setOption(.tcpOption(.tcp_nodelay), value: 0)
                    }
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnector(target: target))
                }
            }
            .bind(host: host, port: port)
            .get()
    }

    /// Stops accepting; established connections are not affected.
    func close() async {
        for channel in self.channels {
            try? await channel.close()
        }
    }
}


/// Fails the set-up of a client accepted while `worker_connections` clients are open.
struct ConnectionLimitReached: Error {}
