import Logging
import Registry

/// The test's own view of ZooKeeper: a separate client that reads what the agent wrote.
struct ZooKeeperProbe: Sendable {
    let client: ZooKeeperClient

    init(connectString: String) async throws {
        client = try ZooKeeperClient(
            configuration: ZooKeeperConfiguration(connectString: connectString, sessionTimeout: .seconds(10)),
            logger: Logger(label: "test.probe"))
        try await client.waitUntilConnected(timeout: .seconds(20))
    }

    /// True only if a read succeeded and found the node (a failed read, e.g. while reconnecting, is false).
    func exists(_ path: String) async -> Bool {
        do { return try await client.exists(path) != nil } catch { return false }
    }

    /// True only if a read succeeded and found no node: "cannot tell" never counts as "gone".
    func absent(_ path: String) async -> Bool {
        do { return try await client.exists(path) == nil } catch { return false }
    }

    func record(_ path: String) async -> MemberRecord? {
        guard let (data, _) = try? await client.getData(path) else { return nil }
        return try? MemberRecord.decode(data)
    }

    func close() async {
        await client.close()
    }
}

extension ZooKeeperProbe {
    /// The session owning an ephemeral node, nil if absent or unreadable.
    func owner(_ path: String) async -> Int64? {
        do { return try await client.exists(path)?.ephemeralOwner } catch { return nil }
    }
}
