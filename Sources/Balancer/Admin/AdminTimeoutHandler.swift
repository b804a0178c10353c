import NIOCore

/// What `AdminHTTPHandler` tells the `AdminTimeoutHandler` at the head of the pipeline.
enum AdminConnectionEvent: Sendable {
    case requestReceived
    case responseWritten
}

/// Sits next to the socket: sees every inbound byte and the request/answer events the HTTP
/// handler sends down, keeps an `AdminConnectionClock` and one timer, and closes the connection
/// when the clock's deadline passes (a slowloris request, an answer the client never takes, an
/// idle keep-alive connection).
final class AdminTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = Any
    typealias OutboundOut = Any

    private let limits: AdminLimits
    private let onTimeout: @Sendable (AdminConnectionClock.Phase) -> Void
    private var clock: AdminConnectionClock?
    private var timer: Scheduled<Void>?
    private var timerDeadline: Duration?

    init(limits: AdminLimits, onTimeout: @escaping @Sendable (AdminConnectionClock.Phase) -> Void) {
        self.limits = limits
        self.onTimeout = onTimeout
    }

    private static func now() -> Duration {
        .nanoseconds(Int64(clamping: NIODeadline.now().uptimeNanoseconds))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            self.start(context: context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard self.clock == nil else { return }
        self.clock = AdminConnectionClock(limits: self.limits, now: Self.now())
        self.rearm(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.clock?.bytesReceived(now: Self.now()) == true {
            self.rearm(context: context)
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? AdminConnectionEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch event {
        case .requestReceived: self.clock?.requestReceived(now: Self.now())
        case .responseWritten: self.clock?.responseWritten(now: Self.now())
        }
        self.rearm(context: context)
        promise?.succeed(())
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timer?.cancel()
        self.timer = nil
    }

    /// One timer per connection, re-armed only when the deadline moves.
    private func rearm(context: ChannelHandlerContext) {
        guard let clock = self.clock, clock.deadline != self.timerDeadline else { return }
        self.timer?.cancel()
        self.timerDeadline = clock.deadline
        let delay = clock.deadline - Self.now()
        let bound = context.loopBound
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.timer = context.eventLoop.scheduleTask(in: TimeAmount(delay)) {
            handler.value.fire(context: bound.value)
        }
    }

    private func fire(context: ChannelHandlerContext) {
        guard let clock = self.clock else { return }
        let now = Self.now()
        guard clock.expired(now: now) else {
            self.timerDeadline = nil
            self.rearm(context: context)
            return
        }
        self.timer = nil
        self.clock = nil
        self.onTimeout(clock.phase)
        context.close(promise: nil)
    }
}
