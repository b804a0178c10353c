import Foundation
import MusterBase
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
        ("not json", "malformed member record: not valid JSON at byte 1"),
        ("[1,2]", "malformed member record: not a JSON object"),
        (#"{"version":1,"id":"a","host":"h","port":1} x"#, "malformed member record: not valid JSON at byte 43"),
        (#"{"version":1,"host":"h","port":1}"#, "malformed member record: missing field 'id'"),
        (#"{"version":1,"id":"a","host":"h","port":"x"}"#, "malformed member record: wrong type at 'port'"),
        (#"{"version":1,"id":"a","host":"h","port":1e30}"#, "malformed member record: a field's value cannot be read (a number that is not an integer in range?)"),
        (#"{"version":0,"id":"a","host":"h","port":1}"#, "invalid member record: version must be >= 1, got 0"),
        (#"{"version":1,"id":"a/b","host":"h","port":1}"#, "invalid member record: id 'a/b' must be 1-128 characters of A-Z a-z 0-9 . _ : -"),
        (#"{"version":1,"id":"a","host":"h","port":70000}"#, "invalid member record: port 70000 is out of range 1-65535"),
        (#"{"version":1,"id":"a","host":"h","port":1,"weight":0}"#,
         "invalid member record: weight 0 is below 1 (to take no new connections, set draining)"),
        (#"{"version":1,"id":"a","host":"h","port":1,"weight":-5}"#,
         "invalid member record: weight -5 is below 1 (to take no new connections, set draining)"),
        (#"{"version":1,"id":"a","host":"","port":1}"#,
         "invalid member record: host '' is not an IP address or a DNS name (IPv6 without brackets, no port)"),
        (#"{"version":1,"id":"a","host":"a\nb","port":1}"#,
         "invalid member record: host 'a\\nb' is not an IP address or a DNS name (IPv6 without brackets, no port)"),
        (#"{"version":1,"id":"a","host":"h","port":1,"host":"evil"}"#, "malformed member record: duplicate key 'host' at byte 42"),
        (#"{"version":1,"id":"a","host":"h","port":1,"\u0068ost":"evil"}"#, "malformed member record: duplicate key 'host' at byte 42"),
        (#"{"version":1,"id":"a","host":"h","port":1,"metadata":{"z":"a","z":"b"}}"#,
         "malformed member record: duplicate key 'z' at byte 62"),
        (#"{"version":1,"id":"a","host":"h","port":1,"x":[{"k":1,"k":2}]}"#, "malformed member record: duplicate key 'k' at byte 54"),
        (#"{"version":1,"id":"a","host":"h\ud800","port":1}"#, "malformed member record: not valid JSON at byte 31"),
        ("{\"version\":1,\"id\":\"a\",\"host\":\"h\u{7}\",\"port\":1}", "malformed member record: not valid JSON at byte 31"),
    ])
    func rejectsBadRecordsWithAReason(json: String, message: String) {
        #expect(throws: MemberRecordError.self) { try MemberRecord.decode(Array(json.utf8)) }
        do {
            _ = try MemberRecord.decode(Array(json.utf8))
        } catch {
            #expect(error.description == message)
            #expect(!error.description.contains("\n"), "an error message is one line")
        }
    }

    static let good = #"{"version":1,"id":"a","host":"10.0.0.5","port":6000}"#

    @Test func onlyUTF8() throws {
        #expect(try MemberRecord.decode(Array(Self.good.utf8)).host == "10.0.0.5")
        let utf16LE = Array(Self.good.utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let utf16BE = Array(Self.good.utf16).flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        let utf32LE = Array(Self.good.unicodeScalars).flatMap { [UInt8($0.value & 0xFF), 0, 0, 0] }
        let cases: [(String, [UInt8])] = [
            ("UTF-16LE", utf16LE), ("UTF-16BE", utf16BE), ("UTF-16LE with BOM", [0xFF, 0xFE] + utf16LE),
            ("UTF-16BE with BOM", [0xFE, 0xFF] + utf16BE), ("UTF-32LE", utf32LE), ("UTF-8 with BOM", [0xEF, 0xBB, 0xBF] + Array(Self.good.utf8)),
            ("Latin-1 byte in a string", Array(#"{"version":1,"id":"a","host":"h","port":1,"metadata":{"z":"\#u{0}"}}"#.utf8).map { $0 == 0 ? 0xE9 : $0 }),
            ("overlong slash", Array(#"{"version":1,"id":"a","host":"h","port":1,"metadata":{"z":"XX"}}"#.utf8).replacing([0x58, 0x58], with: [0xC0, 0xAF])),
            ("UTF-8 surrogate", Array(#"{"version":1,"id":"a","host":"h","port":1,"metadata":{"z":"XXX"}}"#.utf8).replacing([0x58, 0x58, 0x58], with: [0xED, 0xA0, 0x80])),
        ]
        for (name, bytes) in cases {
            do {
                _ = try MemberRecord.decode(bytes)
                Issue.record("\(name) was accepted")
            } catch {
                #expect(error.description.contains("not UTF-8"), "\(name): \(error)")
            }
        }
        // Non-ASCII UTF-8 is fine where free text is allowed.
        let zone = try MemberRecord.decode(Array(#"{"version":1,"id":"a","host":"h","port":1,"metadata":{"zone":"zürich-🚀"}}"#.utf8))
        #expect(zone.metadata["zone"] == "zürich-🚀")
    }

    @Test func aNewerVersionIsReadForTheFieldsThisCodeKnows() throws {
        let json = #"{"version":2,"id":"a","host":"10.0.0.5","port":6000,"weight":3,"leaving":"shutdown","zone":{"x":[1]}}"#
        let (record, notes) = try MemberRecord.decodeNoting(Array(json.utf8))
        #expect(record.id == "a" && record.host == "10.0.0.5" && record.port == 6000 && record.weight == 3)
        #expect(record.version == 2)
        #expect(notes == ["format version 2 is newer than this reader's (1): read for the fields it knows"])
        // Known fields still follow their rules in a newer version.
        #expect(throws: MemberRecordError.self) {
            try MemberRecord.decode(Array(#"{"version":7,"id":"a","host":"a b","port":1}"#.utf8))
        }
        // This code only writes its own version.
        var newer = record
        newer.version = 2
        #expect(throws: MemberRecordError.self) { try newer.encoded() }
    }

    @Test func weightsAboveTheTopAreReadAsTheTopAndBelowOneAreRejected() throws {
        let (heavy, notes) = try MemberRecord.decodeNoting(Array(#"{"version":1,"id":"a","host":"h","port":1,"weight":5000}"#.utf8))
        #expect(heavy.weight == 1000)
        #expect(notes == ["weight 5000 read as 1000, the largest weight"])
        #expect(try MemberRecord.decode(Array(#"{"version":1,"id":"a","host":"h","port":1,"weight":1000}"#.utf8)).weight == 1000)
        #expect(try MemberRecord.decodeNoting(Array(#"{"version":1,"id":"a","host":"h","port":1,"weight":1}"#.utf8)).notes.isEmpty)
        for weight in ["0", "-1", "-9223372036854775808"] {
            #expect(throws: MemberRecordError.self) {
                try MemberRecord.decode(Array(#"{"version":1,"id":"a","host":"h","port":1,"weight":\#(weight)}"#.utf8))
            }
        }
        // A writer may not write more than the top.
        #expect(throws: MemberRecordError.self) { try MemberRecord(id: "a", host: "h", port: 1, weight: 1001).encoded() }
    }

    @Test func aRecordHandedInIsReadByTheSameRuleAsDecodedOnes() throws {
        // What a balancer does with records it did not decode itself (tests, in-process callers).
        let (heavy, notes) = try MemberRecord(id: "a", host: "h", port: 1, weight: 5000).read()
        #expect(heavy.weight == 1000 && notes == ["weight 5000 read as 1000, the largest weight"])
        var newer = MemberRecord(id: "a", host: "h", port: 1)
        newer.version = 2
        #expect(try newer.read().notes.count == 1)
        let decoded = try MemberRecord.decode(Array(#"{"version":1,"id":"a","host":"10.0.0.1","port":7,"weight":3}"#.utf8))
        #expect(try decoded.read().record == decoded && decoded.read().notes.isEmpty)
        for bad in [
            MemberRecord(id: "", host: "h", port: 1), MemberRecord(id: "a", host: "", port: 1),
            MemberRecord(id: "a", host: "h h", port: 1), MemberRecord(id: "a", host: "h", port: 0),
            MemberRecord(id: "a", host: "h", port: 1, weight: 0),
        ] {
            #expect(throws: MemberRecordError.self) { try bad.read() }
        }
    }

    @Test(arguments: [
        "10.0.0.5", "0.0.0.0", "255.255.255.255", "127.0.0.1", "::1", "::", "2001:db8::7", "fe80::1:2:3:4", "::ffff:10.0.0.1",
        "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "1::", "1:2:3:4:5:6:7::", "ABCD:ef01::", "localhost", "a", "chat-1.example.com",
        "1e100.net", "xn--bcher-kva.example", "9lives.example", String(repeating: "a", count: 63) + ".b",
    ])
    func acceptsIPLiteralsAndDNSNames(host: String) throws {
        let record = MemberRecord(id: "a", host: host, port: 1)
        try record.validate()
        #expect(try MemberRecord.decode(try record.encoded()).host == host)
    }

    @Test(arguments: [
        "", " ", "a b", " a", "a\0b", "a\nb", "a\r", "a\tb", "\u{1B}[31mred", "evil\u{202E}moc.example", "a\u{200B}b", "[::1]",
        "[::1]:6000", "h:6000", "10.0.0.5:6000", "256.1.1.1", "010.0.0.1", "1.2.3", "1.2.3.4.5", "0x7f.1", "0x7f000001",
        "2130706433", "a.1", "-a.example", "a-.example", "a..b", ".a", "a.", "my_host", "a/b", "ex\u{E4}mple.com",
        String(repeating: "a", count: 64) + ".b", Array(repeating: "abcdefgh", count: 32).joined(separator: "."),
        "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", ":1", "1:", ":::", "::1.2.3", "::g", "1:2:3:4:5:6:7:1.2.3.4",
        "1.2.3.4::",
    ])
    func rejectsEverythingElseAsAHost(host: String) {
        #expect(!HostSyntax.isValidMemberHost(host), "\(UntrustedText.escaped(host))")
        #expect(throws: MemberRecordError.self) { try MemberRecord(id: "a", host: host, port: 1).validate() }
    }

    @Test func nestingIsBounded() throws {
        func record(depth: Int) -> [UInt8] {
            Array(#"{"version":1,"id":"a","host":"h","port":1,"x":\#(String(repeating: "[", count: depth))\#(String(repeating: "]", count: depth))}"#.utf8)
        }
        #expect(try MemberRecord.decode(record(depth: 31)).id == "a")
        #expect(throws: MemberRecordError.malformed("nested deeper than 32 levels")) { try MemberRecord.decode(record(depth: 32)) }
        #expect(throws: MemberRecordError.self) { try MemberRecord.decode(record(depth: 5000)) }
    }

    /// `decode` must never trap (a libFuzzer target calls it): random bytes and mutations of a
    /// valid record, with a fixed seed so a failure repeats.
    @Test func decodeIsTotal() throws {
        var generator = SplitMix64(seed: 0x6D75_7374_6572)
        let seed = Array(#"{"version":1,"id":"a","host":"10.0.0.5","port":6000,"weight":2,"draining":false,"metadata":{"z":"a\u00e9"}}"#.utf8)
        var accepted = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                bytes = seed
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let position = Int.random(in: 0..<bytes.count, using: &generator)
                    switch Int.random(in: 0..<3, using: &generator) {
                    case 0: bytes[position] = UInt8.random(in: 0...255, using: &generator)
                    case 1: bytes.remove(at: position)
                    default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: position)
                    }
                    if bytes.isEmpty { break }
                }
            }
            if let record = try? MemberRecord.decode(bytes) {
                accepted += 1
                #expect(HostSyntax.isValidMemberHost(record.host))
            }
        }
        #expect(accepted > 0)
    }
    @Test func rejectsOversizedRecords() {
        let huge = Array(repeating: UInt8(ascii: " "), count: MemberLimits.maximumRecordSize + 1)
        #expect(throws: MemberRecordError.tooLarge(MemberLimits.maximumRecordSize + 1)) { try MemberRecord.decode(huge) }
        var record = MemberRecord(id: "a", host: "h", port: 1)
        record.metadata = ["blob": String(repeating: "x", count: MemberLimits.maximumRecordSize)]
        #expect(throws: MemberRecordError.self) { try record.encoded() }
    }

    @Test func ids() {
        #expect(MemberLimits.isValidID("127.0.0.1-6000"))
        #expect(MemberLimits.isValidID("chat_1:a"))
        #expect(!MemberLimits.isValidID(""))
        #expect(!MemberLimits.isValidID(".."))
        #expect(!MemberLimits.isValidID("a b"))
        #expect(!MemberLimits.isValidID(String(repeating: "a", count: 129)))
    }

    @Test func aRecordWithoutTheMarkEncodesAsBeforeAndTheMarkRoundTrips() throws {
        let plain = MemberRecord(id: "m1", host: "127.0.0.1", port: 6000)
        let text = String(decoding: try plain.encoded(), as: UTF8.self)
        #expect(!text.contains("leaving"))
        var marked = plain
        marked.leaving = "shutdown"
        let decoded = try MemberRecord.decode(try marked.encoded())
        #expect(decoded.leaving == "shutdown")
        marked.leaving = String(repeating: "x", count: MemberLimits.maximumLeavingLength + 1)
        #expect(throws: MemberRecordError.self) { try marked.encoded() }
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
        #expect(credentials.file == url.path)
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

    @Test func digestIDMatchesZooKeepersOwn() {
        // From `java -cp /usr/share/java/zookeeper.jar org.apache.zookeeper.server.auth.DigestAuthenticationProvider 'u:p a\c"x'`.
        #expect(DigestCredentials(user: "u", password: "p a\\c\"x").digestID == "u:qVRQAe7rFgTrtHOYINJoS5k8EGk=")
        #expect(DigestCredentials(user: "a", password: "bc").digestID == "a:LYvntQwlc0Camn+fINGJ1nGmbZg=")
        #expect(DigestCredentials(user: "agent", password: "x y").digestID == "agent:jzF3fSpFcZobk+I6YPzEHwjKR2A=")
    }
}
