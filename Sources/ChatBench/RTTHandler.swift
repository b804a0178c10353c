import ChatBenchCore
import NIOCore

/// Drives one `rtt` connection: sends fixed-size messages and times each echo.
///
/// Flat out, one message is in flight and the next is sent when its echo is complete. At a fixed
/// rate, messages go out on schedule whatever is outstanding, and each round trip is timed from
/// its *scheduled* send time, so a stalled target cannot hide its stall (coordinated omission).
final class RTTHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent down the pipeline once every connection is open, so all start together.
    struct Start: Sendable {
        /// When sending begins.
        var at: UInt64
        /// Messages sent before `measureFrom` are warm-up and not recorded; none is sent from `stopAt` on.
        var window: MeasuredWindow
    }

    private let size: Int
    private let interval: UInt64
    private let firstOffset: UInt64
    private let maxMessages: Int
    private let stats: RTTStats
    private let finished: EventLoopPromise<Void>
    private var payload = ByteBuffer()
    // Send times of unanswered messages, oldest first; `head` is the oldest unanswered.
    private var sendTimes: [UInt64] = []
    private var head = 0
    private var partial = 0
    private var sent = 0
    private var window: MeasuredWindow?
    private var nextSend: UInt64 = 0
    private var stopping = false
    private var done = false

    /// - Parameters:
    ///   - interval: nanoseconds between this connection's sends, or 0 for flat out.
    ///   - firstOffset: delay of the first send after the start, to spread connections evenly.
    init(size: Int, interval: UInt64, firstOffset: UInt64, maxMessages: Int, stats: RTTStats, finished: EventLoopPromise<Void>) {
        self.size = size
        self.interval = interval
        self.firstOffset = firstOffset
        self.maxMessages = maxMessages
        self.stats = stats
        self.finished = finished
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.payload = context.channel.allocator.buffer(repeating: UInt8(ascii: "a"), count: self.size)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let start = event as? Start else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        self.window = start.window
        self.nextSend = start.at + self.firstOffset
        self.scheduleTick(context: context)
    }

    private func scheduleTick(context: ChannelHandlerContext) {
        context.eventLoop.assumeIsolated().scheduleTask(deadline: BenchClock.deadline(self.nextSend)) {
            self.tick(context: context)
        }
    }

    private func tick(context: ChannelHandlerContext) {
        guard let window = self.window, !self.stopping, context.channel.isActive else { return }
        if self.interval == 0 {
            self.send(at: BenchClock.now(), context: context)
            context.flush()
            return
        }
        let now = BenchClock.now()
        // Catch up on every send that is due, so the rate holds even when timers fire late.
        while self.nextSend <= now, self.nextSend < window.stopAt, self.sent < self.maxMessages {
            self.send(at: self.nextSend, context: context)
            self.nextSend += self.interval
        }
        context.flush()
        if self.nextSend >= window.stopAt || self.sent >= self.maxMessages {
            self.beginStop(context: context)
        } else {
            self.scheduleTick(context: context)
        }
    }

    private func send(at intended: UInt64, context: ChannelHandlerContext) {
        context.write(self.wrapOutboundOut(self.payload), promise: nil)
        self.sendTimes.append(intended)
        self.sent += 1
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let window = self.window else { return }
        self.partial += self.unwrapInboundIn(data).readableBytes
        let now = BenchClock.now()
        while self.partial >= self.size, self.head < self.sendTimes.count {
            self.partial -= self.size
            let sentAt = self.sendTimes[self.head]
            self.head += 1
            if sentAt >= window.measureFrom, sentAt < window.stopAt {
                self.stats.histogram.recordLatency(now &- sentAt)
                self.stats.completed += 1
            }
        }
        if self.head > 1024, self.head * 2 > self.sendTimes.count {
            self.sendTimes.removeFirst(self.head)
            self.head = 0
        }
        if self.interval == 0, !self.stopping, self.head == self.sendTimes.count {
            if now < window.stopAt, self.sent < self.maxMessages {
                self.send(at: now, context: context)
                context.flush()
            } else {
                self.beginStop(context: context)
            }
        }
        if self.stopping, self.head == self.sendTimes.count {
            self.finish(context: context)
        }
    }

    private func beginStop(context: ChannelHandlerContext) {
        self.stopping = true
        if self.head == self.sendTimes.count {
            self.finish(context: context)
            return
        }
        // Give outstanding echoes a bounded time to arrive; what is still missing then is lost.
        context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(2)) {
            self.finish(context: context)
        }
    }

    private func finish(context: ChannelHandlerContext) {
        guard !self.done else { return }
        self.done = true
        self.stats.lost += UInt64(self.sendTimes.count - self.head)
        context.close(promise: nil)
        self.finished.succeed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.done {
            self.done = true
            self.stats.connectionErrors += 1
            self.stats.lost += UInt64(self.sendTimes.count - self.head)
            self.finished.succeed()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
