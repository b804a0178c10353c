import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import TestSupport

/// A test client that records every line (and every raw byte) the server sends.
final class LineClient: Sendable {
    struct Received {
        var bytes: [UInt8] = []
        var closed = false
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = NIOLockedValueBox(Received())

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = self.unwrapInboundIn(data)
            self.received.withLockedValue { $0.bytes.append(contentsOf: buffer.readableBytesView) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            self.received.withLockedValue { $0.closed = true }
            context.fireChannelInactive()
        }
    }

    private let channel: any Channel
    private let collector: Collector

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    static func connect(to address: SocketAddress) async throws -> LineClient {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(to: address)
            .get()
        return LineClient(channel: channel, collector: collector)
    }

    func send(_ text: String) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(string: text))
    }

    func send(bytes: [UInt8]) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    var lines: [String] {
        let bytes = self.collector.received.withLockedValue { $0.bytes }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }

    var bytes: [UInt8] {
        self.collector.received.withLockedValue { $0.bytes }
    }

    var isClosed: Bool {
        self.collector.received.withLockedValue { $0.closed }
    }

    /// Waits (the one poller's deadline, which only stops a hang) until `condition` holds.
    func waitUntil(_ condition: (LineClient) -> Bool) async -> Bool {
        await TestSupport.waitUntil(timeout: .seconds(30)) { condition(self) }
    }

    /// Waits until at least `count` lines arrived and returns them.
    func waitForLines(_ count: Int) async -> [String] {
        _ = await self.waitUntil { $0.lines.count >= count }
        return self.lines
    }

    func close() async {
        try? await self.channel.close()
    }
}
