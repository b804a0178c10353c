import Logging
import MusterBase
import NIOCore

/// One `upstream` block while the balancer serves it: its member pool (with the state of its
/// membership feed), its metrics, the resolved addresses of its named members, and rate limits for
/// the log lines that a storm of clients could otherwise flood. The listeners, the admin endpoint
/// and the membership feed share it.
final class UpstreamGroup: Sendable {
    let name: String
    let pool: MemberPool
    let metrics: GroupMetrics
    let logger: Logger
    /// Resolved addresses of registry members whose host is a name.
    let addresses = MemberAddresses()
    private let noLiveLog: RateLimiter
    private let connectFailureLog: RateLimiter

    init(configuration: UpstreamConfiguration, pool: MemberPool, metrics: GroupMetrics, logger: Logger) {
        self.name = configuration.name
        self.pool = pool
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: LogKey.upstream] = "\(configuration.name)"
        self.logger = logger
        self.noLiveLog = RateLimiter(interval: .seconds(1))
        self.connectFailureLog = RateLimiter(interval: .seconds(1))
    }

    /// The registry feed's state; the pool keeps it with the members.
    var membershipState: MembershipState { self.pool.membership }

    /// Counts and (at most once a second, unless the listener's error log has it) logs a client
    /// turned away because no member was available.
    func recordNoLiveUpstreams(logged: Bool = true) {
        self.metrics.noLiveUpstreams.increment()
        if logged, let suppressed = self.noLiveLog.admit() {
            self.logger.error("no live upstreams", metadata: [LogKey.suppressed: "\(suppressed)"])
        }
    }

    /// Counts and (at most once a second) logs a failed connect to a member.
    func recordConnectFailure(member: MemberID, address: String, reason: String) {
        self.metrics.connectFailures.increment()
        if let suppressed = self.connectFailureLog.admit() {
            self.logger.warning(
                "upstream connect failed",
                metadata: [
                    LogKey.upstreamID: "\(member)", LogKey.upstreamAddress: "\(address)",
                    LogKey.reason: "\(reason)", LogKey.suppressed: "\(suppressed)",
                ])
        }
    }
}
