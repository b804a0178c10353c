import Logging
import MusterBase
import Registry
import ServiceLifecycle

/// Says what the ZooKeeper session is doing: warns, with growing pauses, while ZooKeeper cannot be
/// reached (at start or later), and notes every change. The client reconnects by itself; this only
/// makes the waiting visible instead of silent.
public struct SessionStateReporter: Service {
    let client: ZooKeeperClient
    let connectString: String
    let logger: Logger
    let initialBackoff: Duration
    let maximumBackoff: Duration

    public init(
        client: ZooKeeperClient,
        connectString: String,
        logger: Logger,
        initialBackoff: Duration = .seconds(1),
        maximumBackoff: Duration = .seconds(30)
    ) {
        self.client = client
        self.connectString = connectString
        self.logger = logger
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.reportUntilCancelled() }
    }

    private func reportUntilCancelled() async throws {
        var backoff = self.initialBackoff
        var waitedTotal = Duration.zero
        while !Task.isCancelled {
            switch self.client.state {
            case .closed:
                // Only after the agent closed the client, which happens once the group has ended.
                return
            case .authFailed:
                // Terminal for this client: nothing can be registered, so stop the agent (exit 1)
                // and let the service manager retry rather than run on unregistered.
                self.logger.critical(
                    "ZooKeeper rejected the credentials; check --auth-file",
                    metadata: [LogKey.zkConnect: "\(self.connectString)"])
                throw AuthenticationFailed(connectString: self.connectString)
            case .connected:
                backoff = self.initialBackoff
                waitedTotal = .zero
                await Self.waitUntilNotConnected(self.client)
                continue
            case .connecting, .expired:
                break
            }
            do {
                try await self.client.waitUntilConnected(timeout: backoff)
                if waitedTotal > .zero {
                    self.logger.notice(
                        "ZooKeeper reachable again",
                        metadata: [LogKey.zkConnect: "\(self.connectString)", LogKey.zkWaited: "\(DurationSyntax.format(waitedTotal))"])
                }
            } catch {
                if Task.isCancelled { return }
                waitedTotal += backoff
                self.logger.warning(
                    "ZooKeeper unreachable; still retrying (health checks continue)",
                    metadata: [
                        LogKey.zkConnect: "\(self.connectString)",
                        LogKey.zkWaited: "\(DurationSyntax.format(waitedTotal))",
                        LogKey.zkNextReportIn: "\(DurationSyntax.format(min(backoff * 2, self.maximumBackoff)))",
                    ])
                backoff = min(backoff * 2, self.maximumBackoff)
            }
        }
    }

    private static func waitUntilNotConnected(_ client: ZooKeeperClient) async {
        for await state in client.sessionStates() where state != .connected {
            return
        }
    }
}

/// ZooKeeper rejected the digest credentials.
public struct AuthenticationFailed: Error, CustomStringConvertible {
    public var connectString: String
    public var description: String { "ZooKeeper at \(connectString) rejected the digest credentials" }
}
