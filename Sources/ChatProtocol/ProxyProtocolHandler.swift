import MusterBase
import NIOCore
import ProxyProtocolCodec

/// `chat-server --proxy-protocol`: holds a connection back until its PROXY protocol header (v1 or
/// v2, read by the balancer's own codec) is whole, then tells the handlers after it the client's
/// address, lets them see the connection become active, and passes every later byte through.
/// A broken header, or more than the codec's bound without one, closes the connection, as the
/// spec requires (the receiver must not guess whether a header is there).
final class ProxyProtocolHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The header was read: the client it names (`address:port`), nil for LOCAL or UNKNOWN.
    struct Received {
        var client: String?
    }

    private var buffered: ByteBuffer?
    private var done = false

    func channelActive(context: ChannelHandlerContext) {
        // Held back until the header is read.
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.done else {
            context.fireChannelRead(data)
            return
        }
        var incoming = self.unwrapInboundIn(data)
        if var buffered = self.buffered {
            buffered.writeBuffer(&incoming)
            incoming = buffered
        }
        let verdict = incoming.readableBytesView.withContiguousStorageIfAvailable { ProxyProtocol.parse(UnsafeRawBufferPointer($0)) }
            ?? ProxyProtocol.parse(Array(incoming.readableBytesView))
        switch verdict {
        case .incomplete:
            self.buffered = incoming
        case .invalid:
            self.buffered = nil
            context.close(promise: nil)
        case .header(let header):
            self.done = true
            self.buffered = nil
            incoming.moveReaderIndex(forwardBy: header.length)
            let client = header.source.map { Endpoint(host: $0.address.text, port: Int($0.port)).description }
            context.fireUserInboundEventTriggered(Received(client: client))
            context.fireChannelActive()
            if incoming.readableBytes > 0 {
                context.fireChannelRead(self.wrapInboundOut(incoming))
                context.fireChannelReadComplete()
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Handlers after this one saw no channelActive unless the header came.
        if self.done {
            context.fireChannelInactive()
        }
    }
}
