import Logging
import MusterBase
import Registry
import ServiceLifecycle

/// Feeds one upstream group from the registry: a ZooKeeper client and a membership watch whose
/// snapshots go to `MemberPool.apply`.
///
/// The watch never empties the set because ZooKeeper is unreachable or refuses the read (it marks
/// it stale instead, with the error), so the last known members keep taking traffic meanwhile.
final class MembershipFeed: Service, Sendable {
    private let source: ZooKeeperSource
    private let upstream: UpstreamGroup
    private let logger: Logger

    init(source: ZooKeeperSource, upstream: UpstreamGroup, logger: Logger) {
        self.source = source
        self.upstream = upstream
        var logger = logger
        logger[metadataKey: LogKey.zkPath] = "\(source.membersPath)"
        self.logger = logger
    }

    func run() async throws {
        // A new attempt: an earlier feed's error no longer describes this one.
        self.upstream.pool.membershipFailed(nil)
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
            self.upstream.pool.membershipFailed(message)
            self.logger.error(
                "membership feed not started; static members only",
                metadata: [LogKey.zkConnect: "\(self.source.connectString)", LogKey.error: "\(message)"])
            return
        }
        let watch = MembershipWatch(client: client, path: self.source.membersPath, logger: self.logger)
        var reportedRejections: Set<String> = []
        var unresolved: Set<String> = []
        for await snapshot in watch.snapshots().cancelOnGracefulShutdown() {
            // Names are resolved here, before the members are added, never by the workers. One that
            // does not resolve: the member stays in the set but gets no clients (its connects fail
            // for passive health) and the name is retried; logged once until it resolves.
            let names = Set(snapshot.members.map(\.host).filter { !HostSyntax.isIPv4($0) && !HostSyntax.isIPv6($0) })
            let failures = await self.upstream.addresses.prepare(hosts: names)
            for (host, reason) in failures.sorted(by: { $0.key < $1.key }) where !unresolved.contains(host) {
                let members = snapshot.members.filter { $0.host == host }.map { UntrustedText.escaped($0.id) }
                self.logger.warning(
                    "member host cannot be resolved; skipped (no clients) until it resolves",
                    metadata: [
                        LogKey.host: "\(UntrustedText.escaped(host))", LogKey.members: "\(members)",
                        LogKey.reason: "\(UntrustedText.escaped(reason))",
                    ])
            }
            unresolved = Set(failures.keys)
            let change = self.upstream.pool.apply(snapshot)
            if !change.added.isEmpty || !change.removed.isEmpty || !change.updated.isEmpty {
                self.logger.info(
                    "membership changed",
                    metadata: [
                        LogKey.added: "\(change.added)", LogKey.removed: "\(change.removed)", LogKey.updated: "\(change.updated)",
                    ])
            }
            // The watch logs each skipped node once; the pool's own rejections are logged when
            // they first appear, not on every snapshot (junk nodes beside a busy group would
            // otherwise repeat the whole list on each change).
            let fresh = change.rejected.filter { !reportedRejections.contains($0) }
            reportedRejections = Set(change.rejected)
            if !fresh.isEmpty {
                self.logger.warning(
                    "member records ignored by the pool",
                    metadata: [LogKey.records: "\(fresh.map { UntrustedText.escaped($0) })"])
            }
            if change.freshnessChanged {
                self.logger.info(
                    "membership snapshot",
                    metadata: [LogKey.members: "\(snapshot.members.count)", LogKey.stale: "\(snapshot.stale)"])
            }
        }
        await client.close()
    }
}
