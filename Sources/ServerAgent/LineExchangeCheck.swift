import NIOCore
import NIOPosix
import Synchronization

/// Application-level check: connect, send one line, and require a reply that starts with a prefix,
/// all within the timeout. A hung server still completes TCP handshakes from the kernel's accept
/// backlog, so only an answer proves it is serving.
public struct LineExchangeCheck: HealthCheck {
    public var target: HostPort
    /// Sent followed by `\n`; `nil` sends nothing (for servers that greet first).
    public var send: String?
    public var expect: String
    public var timeout: Duration
    let group: any EventLoopGroup

    public init(
        target: HostPort,
        send: String?,
        expect: String,
        timeout: Duration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.target = target
        self.send = send
        self.expect = expect
        self.timeout = timeout
        self.group = group
    }

    public func run() async -> CheckOutcome {
        let eventLoop = group.next()
        let target = self.target
        let timeout = self.timeout
        let verdict = Verdict(promise: eventLoop.makePromise(of: CheckOutcome.self))
        // One deadline covers connect, send and reply.
        let deadline = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            verdict.complete(.unhealthy("no reply from \(target) within \(DurationSyntax.format(timeout))"))
        }
        let expected = Array(expect.utf8)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ReplyMatcher(expected: expected, target: target, verdict: verdict)
                    )
                }
            }
        var channel: (any Channel)?
        do {
            let connected = try await bootstrap.connect(host: target.host, port: target.port).get()
            channel = connected
            if let send {
                var buffer = connected.allocator.buffer(capacity: send.utf8.count + 1)
                buffer.writeString(send)
                buffer.writeString("\n")
                connected.writeAndFlush(buffer, promise: nil)
            }
        } catch {
            verdict.complete(.unhealthy("connect to \(target) failed: \(CheckErrorText.describe(error, timeout: timeout))"))
        }
        let outcome = (try? await verdict.promise.futureResult.get()) ?? .unhealthy("check aborted")
        deadline.cancel()
        if let channel { try? await channel.close() }
        return outcome
    }
}

/// Completes the check's promise exactly once: the deadline, the connect error and the reply
/// handler all race to decide.
final class Verdict: Sendable {
    let promise: EventLoopPromise<CheckOutcome>
    private let decided = Mutex(false)

    init(promise: EventLoopPromise<CheckOutcome>) {
        self.promise = promise
    }

    func complete(_ outcome: CheckOutcome) {
        let first = decided.withLock { decided in
            defer { decided = true }
            return !decided
        }
        if first { promise.succeed(outcome) }
    }
}

/// Collects reply bytes until it can say whether they start with the expected prefix.
final class ReplyMatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let expected: [UInt8]
    private let target: HostPort
    private let verdict: Verdict
    private var received: [UInt8] = []

    init(expected: [UInt8], target: HostPort, verdict: Verdict) {
        self.expected = expected
        self.target = target
        self.verdict = verdict
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let wanted = expected.count - received.count
        guard wanted > 0 else { return }
        received.append(contentsOf: buffer.readableBytesView.prefix(wanted))
        if received.count >= expected.count || received.contains(UInt8(ascii: "\n")) {
            decide()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if received.isEmpty {
            verdict.complete(.unhealthy("\(target) closed the connection without replying"))
        } else {
            decide()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        verdict.complete(.unhealthy("reading from \(target) failed: \(error)"))
        context.close(promise: nil)
    }

    private func decide() {
        if received.starts(with: expected) {
            verdict.complete(.healthy)
        } else {
            let shown = String(decoding: received.prefix(64), as: UTF8.self)
                .replacingOccurrences(of: "\n", with: "\\n")
            verdict.complete(.unhealthy("reply from \(target) does not start with the expected prefix: '\(shown)'"))
        }
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: Character, with replacement: String) -> String {
        var result = ""
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
