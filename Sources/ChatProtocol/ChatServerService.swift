import Logging
import MusterBase
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Runs a chat server as a `Service`: graceful shutdown stops accepting and closes every connection.
public struct ChatServerService: Service {
    private let configuration: ChatServerConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable (SocketAddress) -> Void

    /// Creates the service; `onListening` is called once with the bound address.
    public init(
        configuration: ChatServerConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let listener = try await ChatListener.bind(configuration: self.configuration, group: self.group, logger: self.logger)
        self.logger.info(
            "listening",
            metadata: [
                LogKey.address: "\(listener.localAddress)",
                LogKey.serverName: "\(self.configuration.serverName)",
                LogKey.mode: "\(self.configuration.mode)",
            ]
        )
        self.onListening(listener.localAddress)
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await listener.waitUntilStopped()
            } onGracefulShutdown: {
                listener.stopAccepting()
            }
        } onCancel: {
            listener.stopAccepting()
        }
        await listener.shutdown()
        self.logger.info("stopped", metadata: [LogKey.serverName: "\(self.configuration.serverName)"])
    }
}
