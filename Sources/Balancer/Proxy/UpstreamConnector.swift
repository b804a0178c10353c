#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Sits on an accepted client channel until a member is connected, then replaces itself with a
/// `GlueHandler` pair.
///
/// It picks a member, dials it on the client's event loop and, with `proxy_next_upstream on`, moves
/// to the next member on failure, bounded by tries and time. Bytes the client sends meanwhile are
/// held (up to `holdLimit`, after which reading pauses) and written to the member first.
final class UpstreamConnector {
    /// How much early client data is held before reading pauses.
    static let holdLimit = 64 * 1024

    private enum State {
        case waitingForActive
        case connecting
        case clientGone
        case spliced
    }

    private let target: ListenerTarget
    private var state: State = .waitingForActive
    private var held: [ByteBuffer] = []
    private var heldBytes = 0
    private var clientInputClosed = false
    private var tried: Set<MemberID> = []
    private var attempts = 0
    private var deadline: NIODeadline?
    private var clientAddress: String?

    init(target: ListenerTarget) {
        self.target = target
    }

    private func start(context: ChannelHandlerContext) {
        self.state = .connecting
        self.clientAddress = context.channel.remoteAddress?.ipAddress
        let timeout = self.target.server.nextUpstreamTimeout
        if timeout > .zero {
            self.deadline = .now() + TimeAmount(timeout)
        }
        self.attempt(context: context)
    }

    private func attempt(context: ChannelHandlerContext) {
        let upstream = self.target.upstream
        guard let pick = upstream.pool.pick(clientAddress: self.clientAddress, excluding: self.tried) else {
            upstream.recordNoLiveUpstreams()
            self.state = .clientGone
            context.close(promise: nil)
            return
        }
        self.tried.insert(pick.id)
        self.attempts += 1

        var timeout = TimeAmount(self.target.server.connectTimeout)
        if let deadline = self.deadline {
            timeout = min(timeout, max(deadline - .now(), .milliseconds(1)))
        }
        // ClientBootstrap turns TCP_NODELAY on by default; replacing that default costs no extra syscall.
        let bootstrap = ClientBootstrap(group: context.eventLoop)
            .connectTimeout(timeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: self.target.server.tcpNoDelay ? 1 : 0)
            .channelInitializer { channel in
                // The same options and receive buffer as accepted sockets (ProxyListener), set in one step.
                channel.eventLoop.makeCompletedFuture {
                    let options = channel.syncOptions
                    try options?.setOption(.allowRemoteHalfClosure, value: true)
                    try options?.setOption(.recvAllocator, value: ProxyListener.receiveAllocator)
                }
            }
        let connected: EventLoopFuture<Channel>
        if let address = try? SocketAddress(ipAddress: pick.host, port: pick.port) {
            connected = bootstrap.connect(to: address)
        } else {
            connected = bootstrap.connect(host: pick.host, port: pick.port)
        }
        connected.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                self.connected(channel, pick: pick, context: context)
            case .failure(let error):
                self.failed(error, pick: pick, context: context)
            }
        }
    }

    private func failed(_ error: Error, pick: Pick, context: ChannelHandlerContext) {
        let upstream = self.target.upstream
        let reason = Self.describe(error)
        upstream.pool.connectFailed(pick.id, reason: reason)
        upstream.recordConnectFailure(member: pick.id, address: "\(pick.host):\(pick.port)", reason: reason)
        guard case .connecting = self.state else { return }

        let server = self.target.server
        let triesLeft = server.nextUpstreamTries == 0 || self.attempts < server.nextUpstreamTries
        let timeLeft = self.deadline.map { NIODeadline.now() < $0 } ?? true
        if server.nextUpstream && triesLeft && timeLeft {
            self.attempt(context: context)
        } else {
            self.state = .clientGone
            context.close(promise: nil)
        }
    }

    private func connected(_ channel: Channel, pick: Pick, context: ChannelHandlerContext) {
        let upstream = self.target.upstream
        upstream.pool.connectSucceeded(pick.id)
        upstream.metrics.connectionsTotal.increment()
        upstream.metrics.connectionsActive.increment()
        // The member's slot is released exactly once: when its channel closes, whoever closes it.
        let pool = upstream.pool
        let active = upstream.metrics.connectionsActive
        let id = pick.id
        channel.closeFuture.whenComplete { _ in
            pool.connectionClosed(id)
            active.decrement()
        }

        guard case .connecting = self.state else {
            channel.close(promise: nil)
            return
        }
        self.state = .spliced

        let halfClose = self.target.server.halfClose
        let (clientGlue, upstreamGlue) = GlueHandler.matchedPair(
            clientBytes: upstream.metrics.bytesIn, upstreamBytes: upstream.metrics.bytesOut, halfClose: halfClose)
        do {
            try channel.pipeline.syncOperations.addHandler(upstreamGlue)
            upstream.metrics.bytesIn.add(self.heldBytes)
            for buffer in self.held {
                channel.write(buffer, promise: nil)
            }
            self.held.removeAll()
            self.heldBytes = 0
            channel.flush()
            if self.clientInputClosed && halfClose {
                channel.close(mode: .output, promise: nil)
            }
            try context.pipeline.syncOperations.addHandler(clientGlue, position: .after(context.handler))
            if self.clientInputClosed && !halfClose {
                // The client ended before its member was connected: deliver what it sent, then close.
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                clientGlue.endSession()
                return
            }
            let idle = self.target.server.idleTimeout
            if idle > .zero {
                clientGlue.startIdleTimer(timeout: TimeAmount(idle))
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            // A read this handler held back (buffer full) must be re-issued through the glue.
            if !self.clientInputClosed {
                context.channel.read()
            }
        } catch {
            channel.close(promise: nil)
            context.close(promise: nil)
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case ChannelError.connectTimeout:
            return "connect timed out"
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first {
                return Self.describe(first.error)
            }
            return "connect failed: \(error)"
        case let error as IOError:
            return "connect failed: \(String(cString: strerror(error.errnoCode))) (errno \(error.errnoCode))"
        default:
            return "connect failed: \(error)"
        }
    }
}

extension UpstreamConnector: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive, case .waitingForActive = self.state {
            self.start(context: context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        if case .waitingForActive = self.state {
            self.start(context: context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = self.unwrapInboundIn(data)
        self.heldBytes += buffer.readableBytes
        self.held.append(buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {}

    func read(context: ChannelHandlerContext) {
        // Over the limit the read is dropped; the glue re-issues one once the member is connected.
        if self.heldBytes < Self.holdLimit {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            self.clientInputClosed = true
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .connecting = self.state {
            self.state = .clientGone
        }
        self.held.removeAll()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
