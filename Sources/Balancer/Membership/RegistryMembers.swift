import Foundation
import Logging
import MusterBase
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

    /// What the registry holds, in the admin endpoint's `GET /members` shape: one upstream named
    /// after the members path, no listeners, no method and no counters (no balancer is involved);
    /// untrusted fields escaped as the endpoint escapes them.
    public static func report(_ records: [MemberRecord], connectString: String, path: String) -> MembersReport {
        let members = records.map { record in
            MemberStatus(
                id: "zk:\(record.id)", address: record.address, weight: record.weight, source: "zookeeper",
                state: (record.leaving != nil ? MemberState.leaving : record.draining ? .draining : .up).rawValue,
                active: nil, total: nil, failures: nil, reason: record.leaving,
                metadata: record.metadata.isEmpty ? nil : record.metadata
            ).escapingUntrustedText
        }
        return MembersReport(
            listeners: [],
            upstreams: [
                .init(
                    name: UntrustedText.escaped(path), method: nil,
                    zookeeper: UntrustedText.escaped("\(connectString) \(path)"), stale: false, membershipError: nil,
                    members: members)
            ])
    }

    /// The same table as `MembersTable`, with the balancer-only columns shown as "-".
    public static func render(_ records: [MemberRecord], connectString: String, path: String) -> String {
        let report = Self.report(records, connectString: connectString, path: path)
        var out = "registry \(report.upstreams[0].zookeeper ?? "") (read directly: no connection counters)\n"
        let rows = report.upstreams[0].members.map { member -> [String] in
            [member.id, member.address, String(member.weight), member.source, member.state, "-", "-", "-", "-"]
        }
        out += MembersTable.table(headers: MembersTable.headers, rows: rows)
        if rows.isEmpty {
            out += "(no members)\n"
        }
        return out
    }

    /// The report as JSON in `GET /members`'s encoding, for `--json`: the same shape.
    public static func json(_ records: [MemberRecord], connectString: String, path: String) throws -> String {
        String(decoding: try AdminRoutes.encoder().encode(Self.report(records, connectString: connectString, path: path)), as: UTF8.self)
    }
}
