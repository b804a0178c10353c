import ChatBenchCore
import NIOCore

/// The life of one connection in the modes that stream a fixed payload to an echo and time what
/// comes back (`rtt`, `bulk`): it starts on the ``MeasuredWindow`` sent down every pipeline at once,
/// stops sending at the window's end, gives what is still in flight a bounded time to come back,
/// and reports its end exactly once through `finished`. A connection that closes before that
/// counts as a connection error.
protocol MeasuredEchoHandler: ChannelInboundHandler, AnyObject {
    associatedtype Stats: ConnectionErrorCounting
    /// The byte the payload repeats.
    static var payloadByte: UInt8 { get }
    var run: EchoRun<Stats> { get set }
    /// Whether everything sent has come back.
    var drained: Bool { get }
    /// The run starts (`run.window` is set): begin sending.
    func begin(context: ChannelHandlerContext)
    /// The connection ends, finished or dropped: account for what is still outstanding.
    func ending()
}

/// What a ``MeasuredEchoHandler`` keeps of its run.
struct EchoRun<Stats: ConnectionErrorCounting> {
    let payloadSize: Int
    let stats: Stats
    let finished: EventLoopPromise<Void>
    var payload = ByteBuffer()
    /// Set when the run starts.
    var window: MeasuredWindow?
    /// Nothing more is sent; waiting for what is in flight.
    var stopping = false
    var done = false
}

/// Per-event-loop results that count connections lost before the end of a run.
protocol ConnectionErrorCounting: AnyObject {
    var connectionErrors: UInt64 { get set }
}

extension MeasuredEchoHandler {
    func ending() {}

    func handlerAdded(context: ChannelHandlerContext) {
        self.run.payload = context.channel.allocator.buffer(repeating: Self.payloadByte, count: self.run.payloadSize)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let window = event as? MeasuredWindow else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        self.run.window = window
        self.begin(context: context)
    }

    /// Stops sending; finishes now if nothing is in flight, else when it is back (the handler's
    /// `channelRead` calls ``finish(context:)``) or after two seconds, so a stuck target cannot
    /// hold the run.
    func beginStop(context: ChannelHandlerContext) {
        guard !self.run.stopping else { return }
        self.run.stopping = true
        if self.drained {
            self.finish(context: context)
            return
        }
        context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(2)) {
            self.finish(context: context)
        }
    }

    func finish(context: ChannelHandlerContext) {
        guard !self.run.done else { return }
        self.run.done = true
        self.ending()
        context.close(promise: nil)
        self.run.finished.succeed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.run.done {
            self.run.done = true
            self.run.stats.connectionErrors += 1
            self.ending()
            self.run.finished.succeed()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
