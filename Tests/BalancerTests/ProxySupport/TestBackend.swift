import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A backend for proxy tests (nginx-tests style): on accept it sends its name and a newline, then
/// echoes every byte back; when the client half-closes, it half-closes after the echo is out.
final class TestBackend: Sendable {
    let name: String
    let port: Int
    private let channel: Channel
    private let counters: NIOLockedValueBox<(accepted: Int, open: Int, received: Int)>

    private init(name: String, port: Int, channel: Channel, counters: NIOLockedValueBox<(accepted: Int, open: Int, received: Int)>) {
        self.name = name
        self.port = port
        self.channel = channel
        self.counters = counters
    }

    static func start(name: String, port: Int = 0) async throws -> TestBackend {
        let counters = NIOLockedValueBox((accepted: 0, open: 0, received: 0))
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                counters.withLockedValue {
                    $0.accepted += 1
                    $0.open += 1
                }
                channel.closeFuture.whenComplete { _ in
                    counters.withLockedValue { $0.open -= 1 }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(EchoHandler(greeting: name + "\n", counters: counters))
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        return TestBackend(name: name, port: channel.localAddress?.port ?? 0, channel: channel, counters: counters)
    }

    /// Connections accepted so far.
    var accepted: Int { self.counters.withLockedValue { $0.accepted } }
    /// Connections currently open.
    var open: Int { self.counters.withLockedValue { $0.open } }
    /// Bytes received from all clients so far.
    var received: Int { self.counters.withLockedValue { $0.received } }

    /// Stops listening (new connects are refused); open connections stay.
    func stop() async {
        try? await self.channel.close()
    }

    private final class EchoHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let greeting: String
        let counters: NIOLockedValueBox<(accepted: Int, open: Int, received: Int)>

        init(greeting: String, counters: NIOLockedValueBox<(accepted: Int, open: Int, received: Int)>) {
            self.greeting = greeting
            self.counters = counters
        }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: self.greeting)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let count = self.unwrapInboundIn(data).readableBytes
            self.counters.withLockedValue { $0.received += count }
            context.write(data, promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? ChannelEvent, case .inputClosed = event {
                // NIO turns an output close after an input close into a full close, which would drop
                // echo writes still queued: close once they are out.
                context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}
