import Metrics
import NIOCore
import NIOEmbedded
import Testing

@testable import Balancer

/// The glue pair on embedded channels: bytes pass untouched, reads wait for the partner's writability.
@Suite("GlueHandler")
struct GlueHandlerTests {
    /// Counts `read()` calls that get past the glue to the channel.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var reads = 0
        func read(context: ChannelHandlerContext) {
            self.reads += 1
            context.read()
        }
    }

    final class NoopCounter: CounterHandler {
        func increment(by: Int64) {}
        func reset() {}
    }

    private func pair(halfClose: Bool = false) throws -> (client: EmbeddedChannel, upstream: EmbeddedChannel, clientReads: ReadCounter) {
        let loop = EmbeddedEventLoop()
        let client = EmbeddedChannel(loop: loop)
        let upstream = EmbeddedChannel(loop: loop)
        let counter = ByteCounter(counter: Counter(label: "test", dimensions: [], handler: NoopCounter()))
        let (clientGlue, upstreamGlue) = GlueHandler.matchedPair(
            clientBytes: counter, upstreamBytes: counter, halfClose: halfClose)
        let reads = ReadCounter()
        try client.pipeline.syncOperations.addHandler(reads)
        try client.pipeline.syncOperations.addHandler(clientGlue)
        try upstream.pipeline.syncOperations.addHandler(upstreamGlue)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        try client.connect(to: address).wait()
        try upstream.connect(to: address).wait()
        return (client, upstream, reads)
    }

    @Test("what one side reads the other writes, the same buffer, flushed at read complete")
    func passesBytesThrough() throws {
        let (client, upstream, _) = try self.pair()
        let buffer = ByteBuffer(string: "hello")
        try client.writeInbound(buffer)
        #expect(try upstream.readOutbound(as: ByteBuffer.self) == buffer)
        try upstream.writeInbound(ByteBuffer(string: "world"))
        #expect(try client.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "world"))
        #expect(try upstream.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test("a side does not read while its partner is not writable, and reads again once it is")
    func readsWaitForPartnerWritability() throws {
        let (client, upstream, reads) = try self.pair()
        client.read()
        #expect(reads.reads == 1)

        upstream.isWritable = false
        upstream.pipeline.fireChannelWritabilityChanged()
        client.read()
        #expect(reads.reads == 1)

        upstream.isWritable = true
        upstream.pipeline.fireChannelWritabilityChanged()
        #expect(reads.reads == 2)
    }

    @Test("when one side closes, the other side closes too, after the data passed on")
    func closeFollows() throws {
        let (client, upstream, _) = try self.pair()
        #expect(client.isActive)
        try upstream.writeInbound(ByteBuffer(string: "last words"))
        try upstream.close().wait()
        #expect(try client.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "last words"))
        #expect(!client.isActive)
    }

    @Test("proxy_half_close off: an EOF from one side delivers what it sent, then both sides close")
    func eofEndsTheSession() throws {
        let (client, upstream, _) = try self.pair(halfClose: false)
        try client.writeInbound(ByteBuffer(string: "bye"))
        client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try upstream.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "bye"))
        #expect(!upstream.isActive)
        #expect(!client.isActive)
    }
}
