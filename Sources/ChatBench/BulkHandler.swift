import ChatBenchCore
import NIOCore

/// One `bulk` stream: keeps the socket's send buffer full and counts the bytes echoed back.
final class BulkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent down the pipeline once every stream is open, so all start together.
    typealias Start = MeasuredWindow

    private let chunkSize: Int
    private let stats: BulkStats
    private let finished: EventLoopPromise<Void>
    private var chunk = ByteBuffer()
    private var window: Start?
    private var sent: UInt64 = 0
    private var received: UInt64 = 0
    private var stopping = false
    private var done = false

    init(chunkSize: Int, stats: BulkStats, finished: EventLoopPromise<Void>) {
        self.chunkSize = chunkSize
        self.stats = stats
        self.finished = finished
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.chunk = context.channel.allocator.buffer(repeating: UInt8(ascii: "b"), count: self.chunkSize)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let start = event as? Start else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        self.window = start
        self.fill(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.fill(context: context)
        context.fireChannelWritabilityChanged()
    }

    private func fill(context: ChannelHandlerContext) {
        guard let window = self.window, !self.stopping else { return }
        if BenchClock.now() >= window.stopAt {
            self.beginStop(context: context)
            return
        }
        // Writability flips once the queued bytes pass the high-water mark, which bounds this loop.
        while context.channel.isWritable {
            context.write(self.wrapOutboundOut(self.chunk), promise: nil)
            self.sent += UInt64(self.chunkSize)
        }
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let window = self.window else { return }
        let count = UInt64(self.unwrapInboundIn(data).readableBytes)
        self.received += count
        let now = BenchClock.now()
        if now >= window.measureFrom, now < window.stopAt {
            self.stats.bytes += count
        }
        if !self.stopping, now >= window.stopAt {
            self.beginStop(context: context)
        }
        if self.stopping, self.received >= self.sent {
            self.finish(context: context)
        }
    }

    private func beginStop(context: ChannelHandlerContext) {
        guard !self.stopping else { return }
        self.stopping = true
        if self.received >= self.sent {
            self.finish(context: context)
            return
        }
        // The echo of what is in flight drains within moments; do not wait for a stuck target.
        context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(2)) {
            self.finish(context: context)
        }
    }

    private func finish(context: ChannelHandlerContext) {
        guard !self.done else { return }
        self.done = true
        context.close(promise: nil)
        self.finished.succeed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.done {
            self.done = true
            self.stats.connectionErrors += 1
            self.finished.succeed()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
