import Balancer
import Foundation
import MusterBase
import Registry
import TestSupport
import Testing

/// Untrusted strings in `balancer members` and its JSON, and the `--zookeeper --json` shape.
@Suite("Admin: untrusted text and the members JSON shape")
struct AdminUntrustedTextTests {
    static let hostile = "chat\u{1B}[2J\u{1B}]0;owned\u{07}\0x\ny\u{202E}gnp.exe"

    static func hasRawControl(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            scalar != "\n" && !(scalar.properties.generalCategory != .control && scalar.properties.generalCategory != .format)
        }
    }

    @Test("a member whose fields carry ESC, NUL, newline, U+202E and 100 KB is shown escaped and cut, in the table and the registry JSON")
    func registryMemberEscaped() throws {
        let long = String(repeating: "A", count: 100_000)
        let record = MemberRecord(
            id: Self.hostile, host: Self.hostile + long, port: 6000, weight: 1,
            metadata: ["zone\u{1B}[31m": Self.hostile, "big": long])
        let table = RegistryMembers.render([record], connectString: "127.0.0.1:2181", path: "/svc/members")
        #expect(!Self.hasRawControl(table))
        #expect(!table.unicodeScalars.contains("\u{202E}"))
        #expect(table.contains(#"chat\u{1B}[2J"#))
        #expect(table.contains(#"\0x\ny\u{202E}gnp.exe"#))
        // One row per member: the newline in the id did not make a second line; the long host was cut.
        #expect(table.split(separator: "\n").count == 3)
        #expect(table.split(separator: "\n").allSatisfy { $0.count < 1_000 })

        let json = try RegistryMembers.json([record], connectString: "127.0.0.1:2181", path: "/svc/members")
        #expect(!json.unicodeScalars.contains("\u{202E}") && !json.unicodeScalars.contains("\u{1B}"))
        #expect(json.utf8.count < 4_000)
        let report = try JSONDecoder().decode(MembersReport.self, from: Data(json.utf8))
        let member = try #require(report.upstreams.first?.members.first)
        #expect(member.id.hasPrefix(#"zk:chat\u{1B}[2J"#))
        #expect(member.metadata?[#"zone\u{1B}[31m"#]?.contains(#"\u{202E}"#) == true)
        #expect((member.metadata?["big"]?.count ?? .max) < 300)
    }

    @Test("the members table never prints a control or format character, even from a report that was not escaped")
    func tableEscapesRawReport() {
        let report = MembersReport(
            listeners: [],
            upstreams: [
                .init(
                    name: "chat", method: "round_robin", zookeeper: nil, stale: false,
                    membershipError: "NOAUTH at /svc\u{1B}[31m\nforged line",
                    members: [
                        MemberStatus(
                            id: Self.hostile, address: "10.0.0.1:6000", weight: 1, source: "zookeeper", state: "up",
                            active: 0, total: 0, failures: 1, lastFailure: "2026-11-25T07:01:02Z",
                            lastFailureReason: "refused by \u{202E}evil")
                    ])
            ])
        let table = MembersTable.render(report)
        #expect(!Self.hasRawControl(table))
        #expect(!table.unicodeScalars.contains("\u{202E}"))
        #expect(table.contains(#"membership error: NOAUTH at /svc\u{1B}[31m\nforged line"#))
        #expect(table.contains(#"(refused by \u{202E}evil)"#))
        // Already escaped text is shown as it is: no doubled backslashes.
        let escaped = MembersTable.render(
            MembersReport(
                listeners: [],
                upstreams: [
                    .init(
                        name: "chat", method: "round_robin", zookeeper: nil, stale: false, membershipError: nil,
                        members: [
                            MemberStatus(
                                id: #"chat\u{1B}"#, address: "10.0.0.1:6000", weight: 1, source: "zookeeper", state: "up",
                                active: 0, total: 0, failures: 0)
                        ])
                ]))
        #expect(escaped.contains(#"chat\u{1B}  "#))
    }

    @Test("the admin JSON escapes a member's failure reason and the membership error")
    func adminJSONEscaped() async throws {
        let a = try await TestBackend.start(name: "a")
        defer { Task { await a.stop() } }
        let balancer = try await RunningBalancer.withUnstartableSource(backend: a, authFile: "/nonexistent/muster-\u{1B}[31m-auth")
        defer { Task { await balancer.stop() } }
        #expect(await waitUntil { balancer.service.membersReport().upstreams[0].membershipError != nil })
        let body = try await AdminClient.get("/members", from: Endpoint(host: "127.0.0.1", port: balancer.adminPort))
        #expect(!body.contains(0x1B))
        let report = try JSONDecoder().decode(MembersReport.self, from: Data(body))
        let error = try #require(report.upstreams[0].membershipError)
        #expect(!error.unicodeScalars.contains("\u{1B}"))
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

        let a = try await TestBackend.start(name: "a")
        defer { Task { await a.stop() } }
        let balancer = try await RunningBalancer.start(
            BalancerConfiguration(
                upstreams: [UpstreamConfiguration(name: "backends", servers: [.backend(a)])], listeners: [.test()]))
        defer { Task { await balancer.stop() } }
        let adminJSON = try await AdminClient.get("/members", from: Endpoint(host: "127.0.0.1", port: balancer.adminPort))
        let admin = try JSONDecoder().decode(MembersReport.self, from: Data(adminJSON))
        #expect(admin.upstreams[0].members[0].active == 0)
        #expect(admin.upstreams[0].method == "round_robin")
        // The same keys, but for those that are absent when nil (this balancer has no ZooKeeper source).
        func keys(_ json: [UInt8]) throws -> Set<String> {
            let object = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any]
            let upstreams = object?["upstreams"] as? [[String: Any]]
            return Set(object?.keys.map { $0 } ?? []).union(Set(upstreams?.first?.keys.map { "upstream." + $0 } ?? []))
        }
        #expect(try keys(Array(registryJSON.utf8)).isSubset(of: keys(adminJSON).union(["upstream.zookeeper"])))
    }
}
