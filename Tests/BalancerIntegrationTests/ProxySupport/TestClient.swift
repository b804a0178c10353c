import NIOCore
import NIOPosix

/// Client side of proxy tests, on real sockets.
enum TestClient {
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func connect(port: Int) async throws -> Connection {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Connection(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
    }

    /// Whether a TCP connect to `port` succeeds (the connection is closed again at once).
    static func canConnect(port: Int) async -> Bool {
        guard let connection = try? await Self.connect(port: port) else { return false }
        try? await connection.executeThenClose { _, _ in }
        return true
    }

    /// Connects, reads the backend's greeting line and closes: which backend served this connection.
    /// Returns nil if the connection was closed without a greeting (no live upstreams).
    static func name(port: Int) async throws -> String? {
        let connection = try await Self.connect(port: port)
        return try await connection.executeThenClose { inbound, _ in
            var iterator = inbound.makeAsyncIterator()
            var line = ByteBuffer()
            while let buffer = try await iterator.next() {
                var buffer = buffer
                line.writeBuffer(&buffer)
                if let newline = line.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    return String(decoding: line.readableBytesView[..<newline], as: UTF8.self)
                }
            }
            return nil
        }
    }

    /// Which backend served each of `connections` new clients, one after another ("closed": none).
    static func names(port: Int, connections: Int) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for _ in 0..<connections {
            counts[try await name(port: port) ?? "closed", default: 0] += 1
        }
        return counts
    }

    /// Sends `payload` in chunks, half-closes, and returns everything received until the peer's EOF.
    static func exchange(port: Int, payload: [UInt8], chunk: Int = 64 * 1024) async throws -> [UInt8] {
        let connection = try await Self.connect(port: port)
        return try await connection.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask {
                    var start = 0
                    while start < payload.count {
                        let end = min(start + chunk, payload.count)
                        try await outbound.write(ByteBuffer(bytes: payload[start..<end]))
                        start = end
                    }
                    outbound.finish()
                    return nil
                }
                group.addTask {
                    var received: [UInt8] = []
                    received.reserveCapacity(payload.count + 64)
                    for try await buffer in inbound {
                        received += buffer.readableBytesView
                    }
                    return received
                }
                var result: [UInt8] = []
                for try await value in group {
                    if let value { result = value }
                }
                return result
            }
        }
    }

    /// Reads from `iterator` until `count` bytes arrived (or EOF) and returns them.
    static func read(
        _ count: Int, from iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    ) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        while bytes.count < count, let buffer = try await iterator.next() {
            bytes += buffer.readableBytesView
        }
        return bytes
    }

    /// Connects and waits for the backend's greeting; returns the open channel (the caller closes it),
    /// or nil if the connection was closed without a greeting (refused by the balancer).
    static func hold(port: Int) async throws -> Channel? {
        // The watcher goes in before the channel is active, so an early greeting cannot slip past it.
        let (channel, greeted) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let greeted = channel.eventLoop.makePromise(of: Bool.self)
                    try channel.pipeline.syncOperations.addHandler(GreetingWatcher(greeted: greeted))
                    return (channel, greeted.futureResult)
                }
            }
        if try await greeted.get() {
            return channel
        }
        try? await channel.close()
        return nil
    }

    /// Completes `greeted` with true on the first byte, with false if the peer closes first.
    private final class GreetingWatcher: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let greeted: EventLoopPromise<Bool>
        init(greeted: EventLoopPromise<Bool>) { self.greeted = greeted }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { self.greeted.succeed(true) }
        func channelInactive(context: ChannelHandlerContext) { self.greeted.succeed(false) }
        func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
    }
}
