import NIOCore
import NIOPosix

/// A real TCP server on 127.0.0.1 standing in for a ChatServer in tests.
final class LoopbackServer: Sendable {
    enum Behaviour: Sendable {
        /// Answers every line with `reply` plus a newline.
        case reply(String)
        /// Accepts connections and never reads or writes: a hung server.
        case silent
        /// Sends `banner` plus a newline on connect, then nothing.
        case greet(String)
        /// Closes every connection at once.
        case hangUp
    }

    let channel: any Channel
    let port: Int

    private init(channel: any Channel) throws {
        self.channel = channel
        guard let port = channel.localAddress?.port else { throw ServerError.noPort }
        self.port = port
    }

    enum ServerError: Error { case noPort }

    /// Starts on `port` (0 = any free port).
    static func start(port: Int = 0, behaviour: Behaviour = .reply("PONG")) async throws -> LoopbackServer {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    switch behaviour {
                    case .reply(let text):
                        try channel.pipeline.syncOperations.addHandler(LineReplier(reply: text))
                    case .silent:
                        // Never read: the kernel buffers whatever the client sends.
                        channel.setOption(.autoRead, value: false).whenComplete { _ in }
                    case .greet(let banner):
                        var out = channel.allocator.buffer(capacity: banner.utf8.count + 1)
                        out.writeString(banner + "\n")
                        channel.writeAndFlush(out, promise: nil)
                    case .hangUp:
                        channel.close(promise: nil)
                    }
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: port).get()
        return try LoopbackServer(channel: channel)
    }

    func stop() async {
        try? await channel.close()
    }
}

private final class LineReplier: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let reply: String

    init(reply: String) { self.reply = reply }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard buffer.readableBytesView.contains(UInt8(ascii: "\n")) else { return }
        var out = context.channel.allocator.buffer(capacity: reply.utf8.count + 1)
        out.writeString(reply + "\n")
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }
}
