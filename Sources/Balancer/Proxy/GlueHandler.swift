import NIOCore

/// Splices one channel to another: what one side reads, the other side writes.
///
/// The swift-nio-examples connect-proxy pattern: a side only reads while its partner is writable
/// (so at most one read plus the partner's write buffer is held per direction), writes are flushed
/// on `channelReadComplete` and buffers pass through untouched. When a side sends EOF, with
/// `proxy_half_close off` (nginx's default) what it sent is delivered and both sides close; with
/// `on` the EOF is passed on as a half-close and the pair lasts until both sides have sent theirs.
/// Two handlers of a pair live on the same event loop, so they call each other directly.
final class GlueHandler {
    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var inputClosed = false
    /// Last time this side read anything; the idle timer of the pair looks at both sides.
    private(set) var lastActivity: NIODeadline
    /// Bytes read on this side, handed to a metric by the owner (no per-read metric lookups here).
    private let onBytes: ByteCounter
    private var burstBytes = 0
    private var idleTimeout: TimeAmount = .zero
    private var idleTimer: Scheduled<Void>?
    private let halfClose: Bool
    /// Set when the session ended on the other side's EOF (`proxy_half_close off`): this side has
    /// been sent a FIN after what was queued for it, and what it still sends is read and dropped
    /// until its own EOF, so closing never resets it while it may still be reading what it was sent.
    private var lingering = false
    private var lingerTimer: Scheduled<Void>?

    private init(now: NIODeadline, onBytes: ByteCounter, halfClose: Bool) {
        self.lastActivity = now
        self.onBytes = onBytes
        self.halfClose = halfClose
    }

    /// Two handlers that know each other: the first goes on the client channel, the second on the upstream.
    static func matchedPair(
        clientBytes: ByteCounter, upstreamBytes: ByteCounter, halfClose: Bool
    ) -> (client: GlueHandler, upstream: GlueHandler) {
        let now = NIODeadline.now()
        let client = GlueHandler(now: now, onBytes: clientBytes, halfClose: halfClose)
        let upstream = GlueHandler(now: now, onBytes: upstreamBytes, halfClose: halfClose)
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

    /// Ends the session after this side's EOF without `proxy_half_close`: the partner gets what this
    /// side sent and then a FIN (see `lingering`); this side closes once what is queued for it is written.
    func endSession() {
        // The partner first: this side's close below tells the partner to close as well.
        self.partner?.partnerLingeringClose()
        if let context = self.context {
            Self.closeAfterFlush(context)
        }
    }

    /// How long a side that was sent a FIN at the end of a session may take to close its end.
    static let lingerTimeout: TimeAmount = .seconds(5)

    private func partnerLingeringClose() {
        guard let context = self.context, !self.lingering else { return }
        self.lingering = true
        if self.inputClosed {
            Self.closeAfterFlush(context)
            return
        }
        // NIO sends the FIN after the writes queued before it.
        context.close(mode: .output, promise: nil)
        self.lingerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerTimeout) {
            context.close(promise: nil)
        }
        if self.pendingRead {
            self.pendingRead = false
            context.read()
        }
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
        guard let context = self.context else { return }
        if self.inputClosed {
            // Both directions are done. NIO turns an output close on a channel whose input is already
            // closed into a full close, which would drop writes still queued here.
            Self.closeAfterFlush(context)
        } else {
            context.close(mode: .output, promise: nil)
        }
    }

    private func partnerCloseFull() {
        // A lingering side closes on its own EOF or at its deadline.
        guard let context = self.context, !self.lingering else { return }
        // The other side is gone (often after a clean EOF that NIO escalated to a full close): what it
        // sent last is still queued here and must reach this peer before the close.
        Self.closeAfterFlush(context)
    }

    /// Closes once everything queued is written; a peer that stops reading gets `lingerLimit`.
    private static func closeAfterFlush(_ context: ChannelHandlerContext) {
        // Nothing queued (the usual case): close now, without a promise and a timer.
        if let queued = try? context.channel.syncOptions?.getOption(.bufferedWritableBytes), queued == 0 {
            context.close(promise: nil)
            return
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(ByteBuffer()), promise: written)
        let linger = context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerLimit) {
            context.close(promise: nil)
        }
        written.futureResult.assumeIsolated().whenComplete { _ in
            linger.cancel()
            context.close(promise: nil)
        }
    }

    /// How long a closing connection may take to deliver what is queued for a peer that does not read.
    static let lingerLimit: TimeAmount = .seconds(30)

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
        self.lingerTimer?.cancel()
        self.lingerTimer = nil
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if self.lingering { return }
        self.burstBytes &+= self.unwrapInboundIn(data).readableBytes
        self.partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Once per read burst rather than per read: one clock read and one metric update.
        self.lastActivity = .now()
        self.recordBurst()
        self.partner?.partnerFlush()
    }

    private func recordBurst() {
        if self.burstBytes > 0 {
            self.onBytes.add(self.burstBytes)
            self.burstBytes = 0
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.recordBurst()
        self.partner?.partnerCloseFull()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            self.inputClosed = true
            if self.lingering {
                // The end of a lingering close: both directions are done.
                context.close(promise: nil)
            } else if self.halfClose {
                // Half-close passes through: the other side sees EOF after everything already written.
                self.partner?.partnerWriteEOF()
            } else {
                self.endSession()
            }
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
        if self.lingering {
            context.read()
        } else if let partner = self.partner, partner.partnerWritable {
            context.read()
        } else {
            self.pendingRead = true
        }
    }
}
