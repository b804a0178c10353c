import NIOCore

/// One idle `hold` connection: proves the path with a single echo, then stays quiet.
final class HoldHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let probe: EventLoopPromise<Void>
    private var received = 0
    private var probed = false

    /// `probe` succeeds when the echo of the probe byte arrives, and fails if the connection ends first.
    init(probe: EventLoopPromise<Void>) {
        self.probe = probe
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(integer: UInt8(ascii: "h"))), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.received += self.unwrapInboundIn(data).readableBytes
        if !self.probed, self.received >= 1 {
            self.probed = true
            self.probe.succeed()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.probed {
            self.probed = true
            self.probe.fail(HoldError.closedBeforeEcho)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Why a `hold` connection did not count as established.
enum HoldError: Error, CustomStringConvertible {
    case closedBeforeEcho
    case probeTimedOut
    case outOfTime

    var description: String {
        switch self {
        case .closedBeforeEcho: return "connection closed before the probe echo arrived"
        case .probeTimedOut: return "no probe echo within 10 s"
        case .outOfTime: return "--duration ran out before this connection was opened"
        }
    }
}
