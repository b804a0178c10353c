import Foundation
import Registry
import Testing

@Suite("MemberRecord")
struct MemberRecordTests {
    @Test func encodesSortedJSONAndRoundTrips() throws {
        let record = MemberRecord(id: "chat-1", host: "10.0.0.5", port: 6000, weight: 2, metadata: ["zone": "a"])
        let bytes = try record.encoded()
        #expect(String(decoding: bytes, as: UTF8.self)
            == #"{"draining":false,"host":"10.0.0.5","id":"chat-1","metadata":{"zone":"a"},"port":6000,"version":1,"weight":2}"#)
        #expect(try MemberRecord.decode(bytes) == record)
    }

    @Test func readsWhatAnotherLanguageWrites() throws {
        // Minimal form: optional fields missing, unknown keys present (a newer writer's extras).
        let json = #"{ "version": 1, "id": "cpp-7", "host": "127.0.0.1", "port": 6002, "extra": [1, 2] }"#
        let record = try MemberRecord.decode(Array(json.utf8))
        #expect(record == MemberRecord(id: "cpp-7", host: "127.0.0.1", port: 6002, weight: 1, draining: false, metadata: [:]))
        #expect(record.address == "127.0.0.1:6002")
        #expect(MemberRecord(id: "v6", host: "::1", port: 1).address == "[::1]:1")
    }

    @Test(arguments: [
        ("", "malformed member record: empty data"),
        ("not json", "malformed member record: not a JSON object"),
        ("[1,2]", "malformed member record: not a JSON object"),
        (#"{"version":1,"host":"h","port":1}"#, "malformed member record: missing field 'id'"),
        (#"{"version":1,"id":"a","host":"h","port":"x"}"#, "malformed member record: wrong type at 'port'"),
        (#"{"version":2,"id":"a","host":"h","port":1}"#, "invalid member record: format version 2 is newer than this reader (1)"),
        (#"{"version":1,"id":"a/b","host":"h","port":1}"#, "invalid member record: id 'a/b' must be 1-128 characters of A-Z a-z 0-9 . _ : -"),
        (#"{"version":1,"id":"a","host":"h","port":70000}"#, "invalid member record: port 70000 is out of range 1-65535"),
        (#"{"version":1,"id":"a","host":"h","port":1,"weight":0}"#, "invalid member record: weight 0 is out of range 1-1000"),
        (#"{"version":1,"id":"a","host":"","port":1}"#, "invalid member record: host '' is not a host name or address"),
    ])
    func rejectsBadRecordsWithAReason(json: String, message: String) {
        #expect(throws: MemberRecordError.self) { try MemberRecord.decode(Array(json.utf8)) }
        do {
            _ = try MemberRecord.decode(Array(json.utf8))
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func rejectsOversizedRecords() {
        let huge = Array(repeating: UInt8(ascii: " "), count: MemberRecord.maxEncodedSize + 1)
        #expect(throws: MemberRecordError.tooLarge(MemberRecord.maxEncodedSize + 1)) { try MemberRecord.decode(huge) }
        var record = MemberRecord(id: "a", host: "h", port: 1)
        record.metadata = ["blob": String(repeating: "x", count: MemberRecord.maxEncodedSize)]
        #expect(throws: MemberRecordError.self) { try record.encoded() }
    }

    @Test func ids() {
        #expect(MemberRecord.isValidID("127.0.0.1-6000"))
        #expect(MemberRecord.isValidID("chat_1:a"))
        #expect(!MemberRecord.isValidID(""))
        #expect(!MemberRecord.isValidID(".."))
        #expect(!MemberRecord.isValidID("a b"))
        #expect(!MemberRecord.isValidID(String(repeating: "a", count: 129)))
    }
}

@Suite("ZooKeeperError and configuration")
struct ZooKeeperErrorTests {
    @Test func mapsKnownCodesAndKeepsUnknownOnes() {
        #expect(ZooKeeperError.Code(rawCode: -101) == .noNode)
        #expect(ZooKeeperError.Code(rawCode: -110) == .nodeExists)
        #expect(ZooKeeperError.Code(rawCode: -4) == .connectionLoss)
        #expect(ZooKeeperError.Code(rawCode: -112) == .sessionExpired)
        #expect(ZooKeeperError.Code(rawCode: -102) == .noAuth)
        #expect(ZooKeeperError.Code(rawCode: -103) == .badVersion)
        #expect(ZooKeeperError.Code(rawCode: -999) == .other(-999))
        #expect(ZooKeeperError(.noNode, operation: "get", path: "/a").description == "ZooKeeper get /a: no node")
        #expect(ZooKeeperError(.other(-999), operation: "set").description == "ZooKeeper set: ZooKeeper error -999")
        #expect(ZooKeeperError.Code.connectionLoss.isTransient)
        #expect(!ZooKeeperError.Code.noAuth.isTransient)
    }

    @Test func parsesConnectStrings() throws {
        let parsed = try ZooKeeperConfiguration(connectString: "h1:2181,h2:2182,h3:2183/muster/").parsed()
        #expect(parsed.hosts == "h1:2181,h2:2182,h3:2183")
        #expect(parsed.chroot == "/muster")
        #expect(try ZooKeeperConfiguration(connectString: "127.0.0.1:2181").parsed().chroot == "")
        for bad in ["", "host", "host:0", "h1:2181,", "h:99999", "h:1//x"] {
            #expect(throws: ZooKeeperConfiguration.ConfigurationError.self) {
                try ZooKeeperConfiguration(connectString: bad).parsed()
            }
        }
    }

    @Test func credentialsComeFromAFileAndNeverPrint() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("muster-auth-\(UUID().uuidString)")
        try "agent:s3cret\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let credentials = try DigestCredentials.load(fromFile: url.path)
        #expect(credentials == DigestCredentials(user: "agent", password: "s3cret"))
        #expect(!"\(credentials)".contains("s3cret"))
        #expect(throws: DigestCredentials.CredentialsError.self) { try DigestCredentials.parse("nocolon") }
        #expect(throws: DigestCredentials.CredentialsError.self) { try DigestCredentials.parse("user:") }
        do {
            _ = try DigestCredentials.load(fromFile: "/nonexistent/auth")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("/nonexistent/auth"))
        }
    }
}
