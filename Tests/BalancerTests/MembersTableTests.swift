import Foundation
import MusterBase
import Registry
import Testing

@testable import Balancer

/// `balancer members`' table and the registry listing rendered from reports, with no balancer running:
/// every column, and untrusted strings escaped and cut.
@Suite("Admin: the members table and untrusted text")
struct MembersTableTests {
    static let hostile = "chat\u{1B}[2J\u{1B}]0;owned\u{07}\0x\ny\u{202E}gnp.exe"

    static func hasRawControl(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            scalar != "\n" && !(scalar.properties.generalCategory != .control && scalar.properties.generalCategory != .format)
        }
    }

    @Test("the members table lists every column and marks a stale group")
    func table() {
        let report = MembersReport(
            listeners: [.init(address: "0.0.0.0:8000", upstream: "chat")],
            upstreams: [
                .init(
                    name: "chat", method: "round_robin", zookeeper: "127.0.0.1:2181 /muster/services/chat", stale: true,
                    membershipError: nil,
                    members: [
                        MemberStatus(
                            id: "zk:chat-1", address: "127.0.0.1:6000", weight: 1, source: "zookeeper", state: "up",
                            active: 12, total: 340, failures: 0),
                        MemberStatus(
                            id: "static:127.0.0.1:6002", address: "127.0.0.1:6002", weight: 2, source: "static",
                            state: "unavailable", active: 0, total: 17, failures: 3,
                            lastFailure: "2026-11-25T07:01:02Z", lastFailureReason: "connect timed out"),
                    ])
            ])
        let expected = """
            listen 0.0.0.0:8000 -> chat

            upstream chat (round_robin, zookeeper 127.0.0.1:2181 /muster/services/chat) STALE: ZooKeeper unreachable, serving the last known members
            ID                     ADDRESS         WEIGHT  SOURCE     STATE        ACTIVE  TOTAL  FAILURES  LAST FAILURE
            zk:chat-1              127.0.0.1:6000  1       zookeeper  up           12      340    0         -
            static:127.0.0.1:6002  127.0.0.1:6002  2       static     unavailable  0       17     3         2026-11-25T07:01:02Z (connect timed out)

            """
        #expect(MembersTable.render(report) == expected)
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
}
