import ChatBenchCore
import NIOCore

/// Drives one `rtt` connection: sends fixed-size messages and times each echo.
///
/// Flat out, one message is in flight and the next is sent when its echo is complete. At a fixed
/// rate, messages go out on schedule whatever is outstanding, and each round trip is timed from
/// its *scheduled* send time, so a stalled target cannot hide its stall (coordinated omission).
final class RTTHandler: MeasuredEchoHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let payloadByte = UInt8(ascii: "a")
    /// Messages sent before `run.window.measureFrom` are warm-up and not recorded; none is sent
    /// from `stopAt` on.
    var run: EchoRun<RTTStats>
    private let interval: UInt64
    private let firstOffset: UInt64
    private let maxMessages: Int
    // Send times of unanswered messages, oldest first; `head` is the oldest unanswered.
    private var sendTimes: [UInt64] = []
    private var head = 0
    private var partial = 0
    private var sent = 0
    private var nextSend: UInt64 = 0

    /// - Parameters:
    ///   - interval: nanoseconds between this connection's sends, or 0 for flat out.
    ///   - firstOffset: delay of the first send after the start, to spread connections evenly.
    init(size: Int, interval: UInt64, firstOffset: UInt64, maxMessages: Int, stats: RTTStats, finished: EventLoopPromise<Void>) {
        self.run = EchoRun(payloadSize: size, stats: stats, finished: finished)
        self.interval = interval
        self.firstOffset = firstOffset
        self.maxMessages = maxMessages
    }

    var drained: Bool { self.head == self.sendTimes.count }

    func begin(context: ChannelHandlerContext) {
        guard let window = self.run.window else { return }
        self.nextSend = window.start + self.firstOffset
        self.scheduleTick(context: context)
    }

    func ending() {
        self.run.stats.lost += UInt64(self.sendTimes.count - self.head)
    }

    private func scheduleTick(context: ChannelHandlerContext) {
        context.eventLoop.assumeIsolated().scheduleTask(deadline: BenchClock.deadline(self.nextSend)) {
            self.tick(context: context)
        }
    }

    private func tick(context: ChannelHandlerContext) {
        guard let window = self.run.window, !self.run.stopping, context.channel.isActive else { return }
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
        context.write(self.wrapOutboundOut(self.run.payload), promise: nil)
        self.sendTimes.append(intended)
        self.sent += 1
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let window = self.run.window else { return }
        self.partial += self.unwrapInboundIn(data).readableBytes
        let now = BenchClock.now()
        while self.partial >= self.run.payloadSize, self.head < self.sendTimes.count {
            self.partial -= self.run.payloadSize
            let sentAt = self.sendTimes[self.head]
            self.head += 1
            if sentAt >= window.measureFrom, sentAt < window.stopAt {
                self.run.stats.histogram.recordLatency(now &- sentAt)
                self.run.stats.completed += 1
            }
        }
        if self.head > 1024, self.head * 2 > self.sendTimes.count {
            self.sendTimes.removeFirst(self.head)
            self.head = 0
        }
        if self.interval == 0, !self.run.stopping, self.drained {
            if now < window.stopAt, self.sent < self.maxMessages {
                self.send(at: now, context: context)
                context.flush()
            } else {
                self.beginStop(context: context)
            }
        }
        if self.run.stopping, self.drained {
            self.finish(context: context)
        }
    }
}
