import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The one test backend: a real TCP server on 127.0.0.1 standing in for a ChatServer.
///
/// By default (nginx-tests style) it sends its name and a newline on accept, then echoes every
/// byte back; when the client half-closes, it half-closes after the echo is out. The other
/// behaviours are the servers a health check must tell apart.
public final class TestBackend: Sendable {
    public enum Behaviour: Sendable {
        /// Sends `greeting` (if any) plus a newline, then echoes; counts what it receives.
        case echo(greeting: String?)
        /// Answers every line with `reply` plus a newline.
        case reply(String)
        /// Accepts connections and never reads or writes: a hung server.
        case silent
        /// Sends `banner` plus a newline on connect, then nothing.
        case greet(String)
        /// Greets with a banner line, then answers every line with `reply` (like the chat server).
        case greetThenReply(banner: String, reply: String)
        /// Closes every connection at once.
        case hangUp
    }

    public let name: String
    public let port: Int
    private let channel: any Channel
    private let counters: NIOLockedValueBox<Counters>

    struct Counters {
        var accepted = 0
        var open = 0
        var received = 0
    }

    private init(name: String, port: Int, channel: any Channel, counters: NIOLockedValueBox<Counters>) {
        self.name = name
        self.port = port
        self.channel = channel
        self.counters = counters
    }

    /// A backend that greets with `name` and echoes, on `port` (0: any free port).
    public static func start(name: String, port: Int = 0) async throws -> TestBackend {
        try await self.start(port: port, behaviour: .echo(greeting: name), name: name)
    }

    /// Two backends that answer with their names, as most balancing tests need.
    public static func start(_ first: String, _ second: String) async throws -> (TestBackend, TestBackend) {
        (try await start(name: first), try await start(name: second))
    }

    /// A backend with `behaviour` on `port` (0: any free port).
    public static func start(port: Int = 0, behaviour: Behaviour, name: String = "backend") async throws -> TestBackend {
        let counters = NIOLockedValueBox(Counters())
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                counters.withLockedValue {
                    $0.accepted += 1
                    $0.open += 1
                }
                channel.closeFuture.whenComplete { _ in
                    counters.withLockedValue { $0.open -= 1 }
                }
                return channel.eventLoop.makeCompletedFuture {
                    try Self.install(behaviour, on: channel, counters: counters)
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        guard let bound = channel.localAddress?.port else { throw TestSupportError("test backend has no port") }
        return TestBackend(name: name, port: bound, channel: channel, counters: counters)
    }

    private static func install(_ behaviour: Behaviour, on channel: any Channel, counters: NIOLockedValueBox<Counters>) throws {
        let handlers = channel.pipeline.syncOperations
        func send(_ line: String) {
            channel.writeAndFlush(ByteBuffer(string: line + "\n"), promise: nil)
        }
        switch behaviour {
        case .echo(let greeting):
            try handlers.addHandler(EchoHandler(greeting: greeting.map { $0 + "\n" }, counters: counters))
        case .reply(let text):
            try handlers.addHandler(LineReplier(reply: text))
        case .silent:
            // Never read: the kernel buffers whatever the client sends.
            channel.setOption(.autoRead, value: false).whenComplete { _ in }
        case .greet(let banner):
            send(banner)
        case .greetThenReply(let banner, let reply):
            send(banner)
            try handlers.addHandler(LineReplier(reply: reply))
        case .hangUp:
            channel.close(promise: nil)
        }
    }

    /// Connections accepted so far.
    public var accepted: Int { self.counters.withLockedValue { $0.accepted } }
    /// Connections currently open.
    public var open: Int { self.counters.withLockedValue { $0.open } }
    /// Bytes received from all clients so far (echo backends).
    public var received: Int { self.counters.withLockedValue { $0.received } }

    /// Stops listening (new connects are refused); open connections stay.
    public func stop() async {
        try? await self.channel.close()
    }

    private final class EchoHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let greeting: String?
        let counters: NIOLockedValueBox<Counters>

        init(greeting: String?, counters: NIOLockedValueBox<Counters>) {
            self.greeting = greeting
            self.counters = counters
        }

        func channelActive(context: ChannelHandlerContext) {
            if let greeting = self.greeting {
                context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: greeting)), promise: nil)
            }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let count = self.unwrapInboundIn(data).readableBytes
            self.counters.withLockedValue { $0.received += count }
            context.write(data, promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? ChannelEvent, case .inputClosed = event {
                // NIO turns an output close after an input close into a full close, which would drop
                // echo writes still queued: close once they are out.
                context.writeAndFlush(self.wrapOutboundOut(ByteBuffer())).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }

    private final class LineReplier: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let reply: String

        init(reply: String) { self.reply = reply }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = self.unwrapInboundIn(data)
            guard buffer.readableBytesView.contains(UInt8(ascii: "\n")) else { return }
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(string: self.reply + "\n")), promise: nil)
        }
    }
}
