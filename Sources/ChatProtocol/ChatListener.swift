import Logging
import MusterBase
import NIOCore
import NIOPosix

/// A bound chat (or echo) server: accepts connections until ``shutdown()``.
public final class ChatListener: Sendable {
    /// The address the server is bound to; with port 0 in the configuration this names the real port.
    public let localAddress: SocketAddress
    private let serverChannel: any Channel
    private let tracker: ConnectionTracker
    private let hub: ChatHub?
    private let logger: Logger

    private init(
        serverChannel: any Channel,
        localAddress: SocketAddress,
        tracker: ConnectionTracker,
        hub: ChatHub?,
        logger: Logger
    ) {
        self.serverChannel = serverChannel
        self.localAddress = localAddress
        self.tracker = tracker
        self.hub = hub
        self.logger = logger
    }

    /// Binds a server as configured, with one event loop per core taken from `group`.
    /// - Throws: the bind error (address in use, not permitted, unresolvable host).
    public static func bind(
        configuration: ChatServerConfiguration,
        group: any EventLoopGroup,
        logger: Logger
    ) async throws -> ChatListener {
        let tracker = ConnectionTracker()
        let hub = configuration.mode == .chat ? ChatHub(serverName: configuration.serverName) : nil
        let mode = configuration.mode
        let maxLineLength = configuration.maxLineLength
        let proxyProtocol = configuration.proxyProtocol
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: configuration.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard tracker.add(channel) else {
                    return channel.close()
                }
                return channel.eventLoop.makeCompletedFuture {
                    if proxyProtocol {
                        try channel.pipeline.syncOperations.addHandler(ProxyProtocolHandler())
                    }
                    switch mode {
                    case .echo:
                        try channel.pipeline.syncOperations.addHandler(EchoHandler())
                    case .chat:
                        // `hub` is non-nil in chat mode by construction above.
                        if let hub {
                            try channel.pipeline.syncOperations.addHandler(
                                ChatChannelHandler(hub: hub, maxLineLength: maxLineLength)
                            )
                        }
                    }
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            throw ChatListenerError.bindFailed(host: configuration.host, port: configuration.port, underlying: error)
        }
        guard let address = channel.localAddress else {
            try? await channel.close()
            throw ChatListenerError.noLocalAddress(host: configuration.host, port: configuration.port)
        }
        return ChatListener(serverChannel: channel, localAddress: address, tracker: tracker, hub: hub, logger: logger)
    }

    /// The number of open client connections.
    public var connectionCount: Int {
        self.tracker.count
    }

    /// Stops accepting new connections; established ones stay open until ``shutdown()``.
    public func stopAccepting() {
        self.serverChannel.close(promise: nil)
    }

    /// Waits until the listening socket is closed (by ``stopAccepting()`` or ``shutdown()``).
    public func waitUntilStopped() async {
        try? await self.serverChannel.closeFuture.get()
    }

    /// Stops accepting, tells chat clients `BYE server shutting down`, and closes every connection.
    public func shutdown() async {
        try? await self.serverChannel.close()
        let channels = self.tracker.drain()
        self.logger.info("closing client connections", metadata: [LogKey.connections: "\(channels.count)"])
        self.hub?.broadcast("BYE server shutting down")
        for channel in channels {
            // Flushing first lets the goodbye line reach clients that are reading.
            channel.flush()
            channel.close(promise: nil)
        }
        for channel in channels {
            try? await channel.closeFuture.get()
        }
    }
}

/// Why a ``ChatListener`` could not start.
public enum ChatListenerError: Error, CustomStringConvertible {
    /// The socket was bound but reports no local address.
    case noLocalAddress(host: String, port: Int)
    /// Binding the listening socket failed (address in use, not local, not permitted).
    case bindFailed(host: String, port: Int, underlying: any Error)

    public var description: String {
        switch self {
        case .bindFailed(let host, let port, let underlying):
            return "cannot listen on \(Endpoint(host: host, port: port)): \(underlying) (is another server using that port?)"
        case .noLocalAddress(let host, let port):
            return "bound \(Endpoint(host: host, port: port)) but the socket reports no local address"
        }
    }
}
