import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A backend that writes `total` bytes to each client as fast as the socket takes them (only while
/// its channel is writable), and counts how much it managed to hand over: with backpressure through
/// the balancer that stays bounded while the client does not read.
final class FloodBackend: Sendable {
    let port: Int
    private let channel: Channel
    private let handedOver: NIOLockedValueBox<Int>

    private init(port: Int, channel: Channel, handedOver: NIOLockedValueBox<Int>) {
        self.port = port
        self.channel = channel
        self.handedOver = handedOver
    }

    /// - Parameter closeWhenDone: close the connection once all `total` bytes are written.
    static func start(total: Int, closeWhenDone: Bool = false) async throws -> FloodBackend {
        let handedOver = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // A client's EOF does not stop the flood.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FloodHandler(total: total, closeWhenDone: closeWhenDone, handedOver: handedOver))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return FloodBackend(port: channel.localAddress?.port ?? 0, channel: channel, handedOver: handedOver)
    }

    var bytesHandedOver: Int { self.handedOver.withLockedValue { $0 } }

    func stop() async {
        try? await self.channel.close()
    }

    private final class FloodHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private let total: Int
        private let closeWhenDone: Bool
        private var closing = false
        private let handedOver: NIOLockedValueBox<Int>
        private var written = 0
        private let chunk = ByteBuffer(repeating: UInt8(ascii: "f"), count: 64 * 1024)

        init(total: Int, closeWhenDone: Bool, handedOver: NIOLockedValueBox<Int>) {
            self.total = total
            self.closeWhenDone = closeWhenDone
            self.handedOver = handedOver
        }

        private func pump(context: ChannelHandlerContext) {
            while context.channel.isWritable, self.written < self.total {
                // Counted before the write: a write can re-enter pump() through a writability change.
                self.written += self.chunk.readableBytes
                let written = self.written
                self.handedOver.withLockedValue { $0 = written }
                context.write(self.wrapOutboundOut(self.chunk), promise: nil)
            }
            context.flush()
            if self.closeWhenDone, self.written >= self.total, !self.closing {
                self.closing = true
                context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            }
        }

        func channelActive(context: ChannelHandlerContext) {
            self.pump(context: context)
            context.fireChannelActive()
        }

        func channelWritabilityChanged(context: ChannelHandlerContext) {
            self.pump(context: context)
            context.fireChannelWritabilityChanged()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}
