import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The listening socket of one `server {}` block.
final class ProxyListener: Sendable {
    /// "host:port" as configured; listeners are matched by it across reloads.
    let key: String
    let channel: Channel
    private let target: NIOLockedValueBox<ListenerTarget>

    private init(key: String, channel: Channel, target: NIOLockedValueBox<ListenerTarget>) {
        self.key = key
        self.channel = channel
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

    static func bind(
        target: ListenerTarget,
        group: any EventLoopGroup,
        connections: ConnectionRegistry
    ) async throws -> ProxyListener {
        let server = target.server
        let box = NIOLockedValueBox(target)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(clamping: server.backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                connections.add(channel)
                let target = box.withLockedValue { $0 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnector(target: target))
                }
            }
            .bind(host: server.listenHost, port: server.listenPort)
            .get()
        return ProxyListener(key: Self.key(for: server), channel: channel, target: box)
    }

    /// Stops accepting; established connections are not affected.
    func close() async {
        try? await self.channel.close()
    }
}
