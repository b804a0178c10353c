import MusterBase
import NIOCore
import NIOPosix
import Registry

/// Application-level check: connect, send one line, and require a reply that starts with a prefix,
/// all within the timeout. A hung server still completes TCP handshakes from the kernel's accept
/// backlog, so only an answer proves it is serving.
public struct LineExchangeCheck: HealthCheck {
    public var target: Endpoint
    /// Sent followed by `\n`; `nil` sends nothing (for servers that greet first).
    public var send: String?
    public var expect: String
    public var timeout: Duration
    let group: any EventLoopGroup

    public init(
        target: Endpoint,
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
        let skip = send != nil
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ReplyMatcher(expected: expected, target: target, verdict: verdict, skipNonMatching: skip)
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
    private let decided = Locked(false)

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

/// Reads reply lines until one starts with the expected prefix.
///
/// After a sent line, lines that do not match are skipped (a chat server greets every new
/// connection and may broadcast before it answers `PING`), up to ``maxSkippedLines``; the deadline
/// bounds the wait. Without a sent line (a banner check) the first line decides.
final class ReplyMatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Lines skipped before the check gives up on finding the answer.
    static let maxSkippedLines = 32
    /// Bytes kept of one line: enough to match the prefix and to show in the log.
    static let maxKeptLineBytes = 256

    private let expected: [UInt8]
    private let target: Endpoint
    private let verdict: Verdict
    private let skipNonMatching: Bool
    private var line: [UInt8] = []
    private var skipped = 0
    private var decided = false

    init(expected: [UInt8], target: Endpoint, verdict: Verdict, skipNonMatching: Bool) {
        self.expected = expected
        self.target = target
        self.verdict = verdict
        self.skipNonMatching = skipNonMatching
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        for byte in buffer.readableBytesView {
            if decided { return }
            if byte == UInt8(ascii: "\n") {
                endOfLine()
            } else if line.count < Self.maxKeptLineBytes {
                line.append(byte)
                if line.count == expected.count, line.starts(with: expected) { succeed() }
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !decided {
            if line.isEmpty {
                fail("\(target) closed the connection without a reply starting with '\(String(decoding: expected, as: UTF8.self))'")
            } else {
                endOfLine()
                if !decided { fail("\(target) closed the connection without the expected reply") }
            }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("reading from \(target) failed: \(error)")
        context.close(promise: nil)
    }

    private func endOfLine() {
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if line.starts(with: expected) {
            succeed()
            return
        }
        let shown = String(decoding: line.prefix(64), as: UTF8.self)
        if !skipNonMatching {
            fail("reply from \(target) does not start with the expected prefix: '\(shown)'")
        } else if skipped >= Self.maxSkippedLines {
            fail("no reply from \(target) starting with the expected prefix in \(skipped) lines; last: '\(shown)'")
        } else {
            skipped += 1
            line.removeAll(keepingCapacity: true)
        }
    }

    private func succeed() {
        decided = true
        verdict.complete(.healthy)
    }

    private func fail(_ reason: String) {
        decided = true
        verdict.complete(.unhealthy(reason))
    }
}
