import Balancer
import Foundation
import MusterBase
import Registry
import TestSupport
import Testing

/// Untrusted strings in the admin JSON of a running balancer, and the `--zookeeper --json` shape.
/// (The table and registry rendering are `MembersTableTests`, with no balancer.)
@Suite("Admin: untrusted text and the members JSON shape")
struct AdminUntrustedTextTests {
    @Test("the admin JSON escapes a member's failure reason and the membership error")
    func adminJSONEscaped() async throws {
        // A file name with a terminal escape: the feed's error quotes it.
        let auth = "/nonexistent/muster-\u{1B}[31m-auth"
        try await RunningBalancer.with(backend: "a", configuration: { .unreachableSource(beside: $0, authFile: auth) }) { balancer, _ in
            #expect(await waitUntil { balancer.membershipError != nil })
            let body = try await AdminClient.get("/members", from: Endpoint(host: "127.0.0.1", port: balancer.adminPort))
            #expect(!body.contains(0x1B))
            let report = try JSONDecoder().decode(MembersReport.self, from: Data(body))
            let error = try #require(report.upstreams[0].membershipError)
            #expect(!error.unicodeScalars.contains("\u{1B}"))
        }
    }

    @Test("`balancer members --zookeeper --json` and GET /members decode into the same type; registry counters are absent")
    func sameShape() async throws {
        let registryJSON = try RegistryMembers.json(
            [MemberRecord(id: "chat-1", host: "10.0.0.5", port: 6000, weight: 2, metadata: ["zone": "a"])],
            connectString: "127.0.0.1:2181", path: "/muster/services/chat/members")
        let registry = try JSONDecoder().decode(MembersReport.self, from: Data(registryJSON.utf8))
        #expect(registry.listeners.isEmpty)
        let upstream = try #require(registry.upstreams.first)
        #expect(upstream.name == "/muster/services/chat/members")
        #expect(upstream.method == nil)
        #expect(upstream.zookeeper == "127.0.0.1:2181 /muster/services/chat/members")
        #expect(upstream.stale == false && upstream.membershipError == nil)
        #expect(upstream.members == [
            MemberStatus(
                id: "zk:chat-1", address: "10.0.0.5:6000", weight: 2, source: "zookeeper", state: "up",
                active: nil, total: nil, failures: nil, metadata: ["zone": "a"])
        ])
        #expect(!registryJSON.contains("\"active\"") && !registryJSON.contains("\"total\""))

        // The same keys, but for those that are absent when nil (this balancer has no ZooKeeper source).
        func keys(_ json: [UInt8]) throws -> Set<String> {
            let object = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any]
            let upstreams = object?["upstreams"] as? [[String: Any]]
            return Set(object?.keys.map { $0 } ?? []).union(Set(upstreams?.first?.keys.map { "upstream." + $0 } ?? []))
        }
        try await RunningBalancer.with(backend: "a") { balancer, _ in
            let adminJSON = try await AdminClient.get("/members", from: Endpoint(host: "127.0.0.1", port: balancer.adminPort))
            let admin = try JSONDecoder().decode(MembersReport.self, from: Data(adminJSON))
            #expect(admin.upstreams[0].members[0].active == 0)
            #expect(admin.upstreams[0].method == "round_robin")
            #expect(try keys(Array(registryJSON.utf8)).isSubset(of: keys(adminJSON).union(["upstream.zookeeper"])))
        }
    }
}
