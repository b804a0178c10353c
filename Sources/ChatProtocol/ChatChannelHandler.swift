import NIOCore

/// Carries bytes between one client connection and the ``ChatHub``; all protocol decisions are
/// made by ``ChatSession`` and ``ChatRoom``.
final class ChatChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let hub: ChatHub
    private var session: ChatSession
    private var member: ChatRoom.MemberID?
    // Only holds an incomplete line between reads; nil while idle so idle connections stay small.
    private var pending: ByteBuffer?
    /// The client's address from a PROXY protocol header (`--proxy-protocol`), shown in the greeting.
    private var clientAddress: String?

    init(hub: ChatHub, maxLineLength: Int) {
        self.hub = hub
        self.session = ChatSession(maxLineLength: maxLineLength)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let header = event as? ProxyProtocolHandler.Received {
            self.clientAddress = header.client
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelActive(context: ChannelHandlerContext) {
        let (member, actions) = self.hub.join(context.channel, clientAddress: self.clientAddress)
        self.member = member
        self.perform(actions, context: context)
        context.flush()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let member = self.member {
            self.hub.leave(member)
            self.member = nil
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.session.isClosing, let member = self.member else { return }
        var incoming = self.unwrapInboundIn(data)
        var buffer: ByteBuffer
        if var pending = self.pending {
            self.pending = nil
            pending.writeBuffer(&incoming)
            buffer = pending
        } else {
            buffer = incoming
        }
        for event in self.session.receive(&buffer) {
            switch event {
            case .command(let command):
                self.perform(self.hub.handle(command, from: member), context: context)
            case .reply(let line):
                self.write(line, context: context)
            case .close:
                self.closeAfterWrites(context: context)
            }
        }
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            self.pending = buffer
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Resets and similar socket errors end this connection only.
        context.close(promise: nil)
    }

    private func perform(_ actions: [ChatAction], context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case .reply(let line), .broadcast(let line):
                self.write(line, context: context)
            case .close:
                self.closeAfterWrites(context: context)
            }
        }
    }

    private func write(_ line: String, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: line.utf8.count + 1)
        buffer.writeString(line)
        buffer.writeInteger(UInt8(ascii: "\n"))
        context.write(self.wrapOutboundOut(buffer), promise: nil)
    }

    private func closeAfterWrites(context: ChannelHandlerContext) {
        // Writes complete in order, so an empty write completing means everything before it is out.
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
