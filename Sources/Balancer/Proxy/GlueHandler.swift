import NIOCore

/// Splices one channel to another: what one side reads, the other side writes.
///
/// The swift-nio-examples connect-proxy pattern: a side only reads while its partner is writable
/// (so at most one read plus the partner's write buffer is held per direction), writes are flushed
/// on `channelReadComplete`, buffers pass through untouched and a half-close is passed on as a
/// half-close. Two handlers of a pair live on the same event loop, so they call each other directly.
final class GlueHandler {
    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    /// Last time this side read anything; the idle timer of the pair looks at both sides.
    private(set) var lastActivity: NIODeadline
    /// Bytes read on this side, handed to a metric by the owner (no per-read metric lookups here).
    private let onBytes: ByteCounter
    private var idleTimeout: TimeAmount = .zero
    private var idleTimer: Scheduled<Void>?

    private init(now: NIODeadline, onBytes: ByteCounter) {
        self.lastActivity = now
        self.onBytes = onBytes
    }

    /// Two handlers that know each other: the first goes on the client channel, the second on the upstream.
    static func matchedPair(clientBytes: ByteCounter, upstreamBytes: ByteCounter) -> (client: GlueHandler, upstream: GlueHandler) {
        let now = NIODeadline.now()
        let client = GlueHandler(now: now, onBytes: clientBytes)
        let upstream = GlueHandler(now: now, onBytes: upstreamBytes)
        client.partner = upstream
        upstream.partner = client
        return (client, upstream)
    }

    /// Latest activity of either side of the pair.
    var pairLastActivity: NIODeadline {
        guard let partner = self.partner else { return self.lastActivity }
        return max(self.lastActivity, partner.lastActivity)
    }

    /// Closes both channels of the pair.
    func closePair() {
        self.context?.close(promise: nil)
        self.partner?.partnerCloseFull()
    }

    /// Closes the pair once neither side has read anything for `timeout` (nginx's `proxy_timeout`).
    /// One timer per connection, re-armed to the latest activity instead of on every read.
    func startIdleTimer(timeout: TimeAmount) {
        self.idleTimeout = timeout
        self.scheduleIdleCheck(at: self.pairLastActivity + timeout)
    }

    private func scheduleIdleCheck(at deadline: NIODeadline) {
        guard let context = self.context else { return }
        self.idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.idleCheck()
        }
    }

    private func idleCheck() {
        let due = self.pairLastActivity + self.idleTimeout
        if NIODeadline.now() >= due {
            self.closePair()
        } else {
            self.scheduleIdleCheck(at: due)
        }
    }

    private func partnerWrite(_ data: NIOAny) {
        self.context?.write(data, promise: nil)
    }

    private func partnerFlush() {
        self.context?.flush()
    }

    private func partnerWriteEOF() {
        self.context?.close(mode: .output, promise: nil)
    }

    private func partnerCloseFull() {
        self.context?.close(promise: nil)
    }

    private func partnerBecameWritable() {
        if self.pendingRead {
            self.pendingRead = false
            self.context?.read()
        }
    }

    private var partnerWritable: Bool {
        self.context?.channel.isWritable ?? false
    }
}

extension GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The partner may have held back a read while this side was not in place yet.
        if context.channel.isWritable {
            self.partner?.partnerBecameWritable()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.idleTimer?.cancel()
        self.idleTimer = nil
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.lastActivity = .now()
        self.onBytes.add(self.unwrapInboundIn(data).readableBytes)
        self.partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.partner?.partnerCloseFull()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            // Half-close passes through: the other side sees EOF after everything already written.
            self.partner?.partnerWriteEOF()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Resets and the like end both sides; nothing to report per error on the data path.
        context.close(promise: nil)
        self.partner?.partnerCloseFull()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.partner?.partnerBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if let partner = self.partner, partner.partnerWritable {
            context.read()
        } else {
            self.pendingRead = true
        }
    }
}
