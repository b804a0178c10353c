import Logging
import Metrics
import MusterBase
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin HTTP listener (127.0.0.1:8001 by default), bounded by `AdminLimits`.
final class AdminServer: Sendable {
    let channel: Channel
    private let state: State

    /// Shared by every admin connection; new connections use the limits current at their accept.
    final class State: Sendable {
        let limits: NIOLockedValueBox<AdminLimits>
        let open = NIOLockedValueBox(0)
        let logLimiter = RateLimiter(interval: .seconds(10))
        let refused: Counter
        let requestTimeouts: Counter
        let answerTimeouts: Counter
        let idleTimeouts: Counter
        let tooLarge: Counter
        let badRequests: Counter
        let logger: Logger

        init(limits: AdminLimits, metricsFactory: any MetricsFactory, logger: Logger) {
            self.limits = NIOLockedValueBox(limits)
            self.logger = logger
            self.refused = Counter(label: "balancer_admin_connections_refused_total", factory: metricsFactory)
            let closed = "balancer_admin_connections_closed_total"
            self.requestTimeouts = Counter(label: closed, dimensions: [("reason", "request_timeout")], factory: metricsFactory)
            self.answerTimeouts = Counter(label: closed, dimensions: [("reason", "answer_timeout")], factory: metricsFactory)
            self.idleTimeouts = Counter(label: closed, dimensions: [("reason", "keepalive_timeout")], factory: metricsFactory)
            self.tooLarge = Counter(label: closed, dimensions: [("reason", "too_large")], factory: metricsFactory)
            self.badRequests = Counter(label: closed, dimensions: [("reason", "bad_request")], factory: metricsFactory)
        }

        /// Takes a connection slot; false (and counted, and logged at most every 10 s) when all are taken.
        func admit(remote: SocketAddress?) -> Bool {
            let limit = self.limits.withLockedValue { $0.maxConnections }
            let admitted = self.open.withLockedValue { open in
                guard open < limit else { return false }
                open += 1
                return true
            }
            if !admitted {
                self.refused.increment()
                if let suppressed = self.logLimiter.admit() {
                    self.logger.warning(
                        "admin connection refused: max_connections reached",
                        metadata: [
                            LogKey.adminMaxConnections: "\(limit)",
                            LogKey.adminRemote: "\(remote.map { "\($0)" } ?? "?")",
                            LogKey.suppressed: "\(suppressed)",
                        ])
                }
            }
            return admitted
        }

        func release() {
            self.open.withLockedValue { $0 -= 1 }
        }
    }

    private init(channel: Channel, state: State) {
        self.channel = channel
        self.state = state
    }

    static func bind(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        limits: AdminLimits,
        metricsFactory: any MetricsFactory,
        logger: Logger,
        route: @escaping @Sendable (HTTPMethod, String) -> AdminResponse
    ) async throws -> AdminServer {
        let state = State(limits: limits, metricsFactory: metricsFactory, logger: logger)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Small reads: what the pipeline handler holds while an answer is pending is one read's worth.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 1024, maximum: 8192))
            .childChannelInitializer { channel in
                guard state.admit(remote: channel.remoteAddress) else {
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in state.release() }
                let limits = state.limits.withLockedValue { $0 }
                return channel.eventLoop.makeCompletedFuture {
                    try Self.configure(channel: channel, limits: limits, state: state, route: route)
                }
            }
            .bind(host: host, port: port)
            .get()
        return AdminServer(channel: channel, state: state)
    }

    private static func configure(
        channel: Channel, limits: AdminLimits, state: State,
        route: @escaping @Sendable (HTTPMethod, String) -> AdminResponse
    ) throws {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(
            AdminTimeoutHandler(limits: limits) { phase in
                switch phase {
                case .awaitingRequest: state.requestTimeouts.increment()
                case .answering: state.answerTimeouts.increment()
                case .idle: state.idleTimeouts.increment()
                }
            })
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderFieldSize = limits.maxHeaderSize
        decoderLimits.maxHeaderListSize = limits.maxHeaderSize
        decoderLimits.maxHeaderFieldCount = 100
        try sync.configureHTTPServerPipeline(
            position: .last,
            withPipeliningAssistance: true,
            withServerUpgrade: nil,
            withErrorHandling: false,
            withOutboundHeaderValidation: true,
            withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: decoderLimits)
        try sync.addHandler(
            AdminHTTPHandler(route: route, limits: limits) { status in
                switch status {
                case 414, 431: state.tooLarge.increment()
                default: state.badRequests.increment()
                }
            })
    }

    /// New limits for connections accepted from now on (a reload).
    func update(limits: AdminLimits) {
        self.state.limits.withLockedValue { $0 = limits }
    }

    func close() async {
        try? await self.channel.close()
    }
}
