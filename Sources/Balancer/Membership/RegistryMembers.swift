import Foundation
import Logging
import Registry

/// Reads member records straight from ZooKeeper, for `balancer members --zookeeper` when no
/// balancer runs.
public enum RegistryMembers {
    public struct TimedOut: Error, CustomStringConvertible {
        public var connectString: String
        public var path: String
        public var description: String {
            "no authoritative member list from ZooKeeper \(connectString) at \(path) in time; is ZooKeeper up and the path right?"
        }
    }

    /// The members under `path` from one authoritative (not stale) read.
    public static func read(
        connectString: String, path: String, authFile: String?, timeout: Duration, logger: Logger
    ) async throws -> [MemberRecord] {
        let credentials = try authFile.map { try DigestCredentials.load(fromFile: $0) }
        let client = try ZooKeeperClient(
            configuration: ZooKeeperConfiguration(connectString: connectString, credentials: credentials), logger: logger)
        do {
            try await client.waitUntilConnected(timeout: timeout)
            let watch = MembershipWatch(client: client, path: path, logger: logger)
            let members = try await withThrowingTaskGroup(of: [MemberRecord]?.self) { group in
                group.addTask {
                    for await snapshot in watch.snapshots() {
                        // Waiting cannot cure a refused read: say so at once rather than time out.
                        if case .notAuthorized(let denied) = snapshot.error { throw denied }
                        if !snapshot.stale { return snapshot.members }
                    }
                    return nil
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                guard let first else {
                    throw TimedOut(connectString: connectString, path: path)
                }
                return first
            }
            await client.close()
            return members
        } catch {
            await client.close()
            throw error
        }
    }

    /// The same table as `MembersTable`, with the balancer-only columns shown as "-".
    public static func render(_ records: [MemberRecord], connectString: String, path: String) -> String {
        var out = "registry \(connectString) \(path) (read directly: no connection counters)\n"
        let rows = records.map { record -> [String] in
            let address = record.host.contains(":") ? "[\(record.host)]:\(record.port)" : "\(record.host):\(record.port)"
            return [
                "zk:\(record.id)", address, String(record.weight), "zookeeper", record.draining ? "draining" : "up",
                "-", "-", "-", "-",
            ]
        }
        out += MembersTable.table(headers: MembersTable.headers, rows: rows)
        if rows.isEmpty {
            out += "(no members)\n"
        }
        return out
    }

    /// The records as JSON (sorted keys, pretty), for `--json`.
    public static func json(_ records: [MemberRecord]) throws -> String {
        String(decoding: try AdminRoutes.encoder().encode(records), as: UTF8.self)
    }
}
