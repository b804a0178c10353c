import Logging
import Registry
import ServiceLifecycle

/// Feeds one upstream group from the registry: a ZooKeeper client and a membership watch whose
/// snapshots go to `UpstreamPool.applyMembership`.
///
/// The watch never empties the set because ZooKeeper is unreachable (it marks it stale instead), so
/// while ZooKeeper is down the last known members keep taking traffic.
final class MembershipFeed: Service, Sendable {
    private let source: ZooKeeperSource
    private let upstream: UpstreamRuntime
    private let logger: Logger

    init(source: ZooKeeperSource, upstream: UpstreamRuntime, logger: Logger) {
        self.source = source
        self.upstream = upstream
        var logger = logger
        logger[metadataKey: "zk.path"] = "\(source.path)"
        self.logger = logger
    }

    func run() async throws {
        let client: ZooKeeperClient
        do {
            // Credentials come from the auth file only; DigestCredentials' description is redacted.
            let credentials = try self.source.authFile.map { try DigestCredentials.load(fromFile: $0) }
            client = try ZooKeeperClient(
                configuration: ZooKeeperConfiguration(
                    connectString: self.source.connectString,
                    sessionTimeout: self.source.sessionTimeout,
                    credentials: credentials),
                logger: self.logger)
        } catch {
            let message = "\(error)"
            self.upstream.updateMembership { $0.error = message }
            self.logger.error(
                "membership feed not started; static members only",
                metadata: ["zk.connect": "\(self.source.connectString)", "error": "\(message)"])
            return
        }
        let watch = MembershipWatch(client: client, path: self.source.path, logger: self.logger)
        for await snapshot in watch.snapshots().cancelOnGracefulShutdown() {
            let change = self.upstream.pool.applyMembership(
                snapshot.members.map {
                    DiscoveredMember(id: $0.id, host: $0.host, port: $0.port, weight: $0.weight, draining: $0.draining)
                },
                stale: snapshot.stale)
            var changed = false
            self.upstream.updateMembership { state in
                changed = state.stale != snapshot.stale || !state.hasSnapshot
                state.stale = snapshot.stale
                state.hasSnapshot = true
                state.error = nil
            }
            if !change.added.isEmpty || !change.removed.isEmpty || !change.updated.isEmpty {
                self.logger.info(
                    "membership changed",
                    metadata: [
                        "added": "\(change.added)", "removed": "\(change.removed)", "updated": "\(change.updated)",
                    ])
            }
            let rejected = change.rejected + snapshot.skipped
            if !rejected.isEmpty {
                self.logger.warning("member records ignored", metadata: ["records": "\(rejected)"])
            }
            if changed {
                self.logger.info(
                    "membership snapshot",
                    metadata: ["members": "\(snapshot.members.count)", "stale": "\(snapshot.stale)"])
            }
        }
        await client.close()
    }
}
