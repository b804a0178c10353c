import Balancer
import Foundation
import Logging
import MusterBase
import Registry
import TestSupport
import Testing

/// A balancer whose identity may not read the members path (a wrong password is just another
/// identity): it says so in `membershipError` and in `balancer members`, marks the group stale
/// instead of showing an authoritative empty one, and `balancer members --zookeeper` fails at once.
@Suite("Balancer membership with NOAUTH (ZooKeeper)", .serialized, .timeLimit(.minutes(2)))
struct MembershipAuthorizationTests {
    static let path = "/muster/services/chat"

    @Test func aDeniedReadIsAnErrorNotAnEmptyHealthyGroup() async throws {
        let zk = try await ZooKeeperServer.start()
        let owner = DigestCredentials(user: "agent", password: "right-\(UUID().uuidString)")
        let admin = try ZooKeeperClient(
            configuration: ZooKeeperConfiguration(connectString: zk.connectString, credentials: owner), logger: Logger(label: "admin"))
        try await admin.waitUntilConnected(timeout: .seconds(20))
        let members = ServicePath.members(of: Self.path)
        try await admin.create(members, makeParents: true)
        try await admin.create("\(members)/a", data: try MemberRecord(id: "a", host: "127.0.0.1", port: 6000).encoded())
        try await admin.setACL(members, [.digest(owner, .all)])

        let secret = "wrong-\(UUID().uuidString)"
        let authFile = FileManager.default.temporaryDirectory.appendingPathComponent("auth-\(UUID().uuidString)").path
        try "agent:\(secret)\n".write(toFile: authFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: authFile) }

        let balancer = try await RunningBalancer.start(
            BalancerConfiguration(
                upstreams: [
                    UpstreamConfiguration(
                        name: "chat",
                        zookeeper: ZooKeeperSource(connectString: zk.connectString, path: Self.path, authFile: authFile))
                ],
                listeners: [.test(upstream: "chat")]))
        #expect(await waitUntil { balancer.service.membersReport().upstreams[0].membershipError != nil })
        let upstream = balancer.service.membersReport().upstreams[0]
        #expect(upstream.stale, "not an authoritative read")
        #expect(upstream.members.isEmpty)
        let error = upstream.membershipError ?? ""
        #expect(error.contains("not authorized: ZooKeeper denied children on \(members)"), "\(error)")
        #expect(error.contains(authFile) && !error.contains(secret))
        let table = MembersTable.render(balancer.service.membersReport())
        #expect(table.contains("STALE: serving the last known members"), "\(table)")
        #expect(table.contains("membership error: not authorized"), "\(table)")

        // Read access granted: the retry (with backoff) clears the error and reads the members.
        try await admin.setACL(members, [.digest(owner, .all), .world(.read)])
        #expect(await waitUntil(timeout: .seconds(15)) {
            let upstream = balancer.service.membersReport().upstreams[0]
            return upstream.membershipError == nil && !upstream.stale && upstream.members.map(\.id) == ["zk:a"]
        })
        await balancer.stop()

        // Reading the registry directly fails at once with the same message, not a timeout.
        try await admin.setACL(members, [.digest(owner, .all)])
        let arguments = [
            "members", "--zookeeper", zk.connectString, "--path", Self.path, "--auth-file", authFile, "--timeout", "20s",
        ]
        let direct = try await BalancerBinaryTests.run(arguments)
        #expect(direct.status != 0)
        #expect(direct.error.contains("not authorized: ZooKeeper denied children on \(members)"), "\(direct.error)")
        // At once: the message is NOAUTH's, not the 20 s --timeout's.
        #expect(!direct.error.contains(secret) && !direct.output.contains(secret))
        #expect(!direct.error.contains("timed out"), "\(direct.error)")

        await admin.close()
        await zk.stop()
    }
}
