import Logging

// Temporary until Registry lands on main.
final class MembershipFeed: Sendable {
    private let logger: Logger
    init(source: ZooKeeperSource, upstream: UpstreamRuntime, logger: Logger) { self.logger = logger }
    func run() async throws { logger.error("registry not available yet") }
}
