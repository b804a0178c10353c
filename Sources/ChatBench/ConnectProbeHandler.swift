import ChatBenchCore
import NIOCore

/// One `connect` cycle on an established connection: send one message, wait for its echo, close.
final class ConnectProbeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let startedAt: UInt64
    private let size: Int
    private let measureFrom: UInt64
    private let stats: ConnectStats
    private var received = 0
    private var answered = false

    init(startedAt: UInt64, size: Int, measureFrom: UInt64, stats: ConnectStats) {
        self.startedAt = startedAt
        self.size = size
        self.measureFrom = measureFrom
        self.stats = stats
    }

    func channelActive(context: ChannelHandlerContext) {
        if self.startedAt >= self.measureFrom {
            self.stats.connectLatency.recordLatency(BenchClock.now() &- self.startedAt)
        }
        let payload = context.channel.allocator.buffer(repeating: UInt8(ascii: "c"), count: self.size)
        context.writeAndFlush(self.wrapOutboundOut(payload), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received += self.unwrapInboundIn(data).readableBytes
        guard !self.answered, self.received >= self.size else { return }
        self.answered = true
        if self.startedAt >= self.measureFrom {
            self.stats.firstEchoLatency.recordLatency(BenchClock.now() &- self.startedAt)
            self.stats.completed += 1
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.answered {
            self.stats.failures += 1
            if self.stats.firstError == nil {
                self.stats.firstError = "connection closed before the echo arrived"
            }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.stats.firstError == nil {
            self.stats.firstError = "\(error)"
        }
        context.close(promise: nil)
    }
}
