import ChatBenchCore
import NIOCore

/// One `bulk` stream: keeps the socket's send buffer full and counts the bytes echoed back.
final class BulkHandler: MeasuredEchoHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let payloadByte = UInt8(ascii: "b")
    var run: EchoRun<BulkStats>
    private var sent: UInt64 = 0
    private var received: UInt64 = 0

    init(chunkSize: Int, stats: BulkStats, finished: EventLoopPromise<Void>) {
        self.run = EchoRun(payloadSize: chunkSize, stats: stats, finished: finished)
    }

    var drained: Bool { self.received >= self.sent }

    func begin(context: ChannelHandlerContext) {
        self.fill(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.fill(context: context)
        context.fireChannelWritabilityChanged()
    }

    private func fill(context: ChannelHandlerContext) {
        guard let window = self.run.window, !self.run.stopping else { return }
        if BenchClock.now() >= window.stopAt {
            self.beginStop(context: context)
            return
        }
        // Writability flips once the queued bytes pass the high-water mark, which bounds this loop.
        while context.channel.isWritable {
            context.write(self.wrapOutboundOut(self.run.payload), promise: nil)
            self.sent += UInt64(self.run.payloadSize)
        }
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let window = self.run.window else { return }
        let count = UInt64(self.unwrapInboundIn(data).readableBytes)
        self.received += count
        let now = BenchClock.now()
        if now >= window.measureFrom, now < window.stopAt {
            self.run.stats.bytes += count
        }
        if !self.run.stopping, now >= window.stopAt {
            self.beginStop(context: context)
        }
        if self.run.stopping, self.drained {
            self.finish(context: context)
        }
    }
}
