import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin HTTP listener (127.0.0.1:8001 by default).
final class AdminServer: Sendable {
    let channel: Channel

    private init(channel: Channel) {
        self.channel = channel
    }

    static func bind(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        route: @escaping @Sendable (HTTPMethod, String) -> AdminResponse
    ) async throws -> AdminServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminHTTPHandler(route: route))
                }
            }
            .bind(host: host, port: port)
            .get()
        return AdminServer(channel: channel)
    }

    func close() async {
        try? await self.channel.close()
    }
}
