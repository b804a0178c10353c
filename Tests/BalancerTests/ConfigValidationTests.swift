import Foundation
import MusterBase
import Registry
import Testing

@testable import Balancer

/// `check` and `run` share one validation: what `balancer check` passes, `run` can start (issue #9, defect 5).
@Suite("config validation: check's verdict is run's")
struct ConfigValidationTests {
    static let upstream = "upstream u { server 127.0.0.1:1; }"

    static func error(_ text: String) -> ConfigError? {
        error(bytes: Array(text.utf8))
    }

    static func error(bytes: [UInt8]) -> ConfigError? {
        do {
            _ = try BalancerConfiguration.parse(bytes: bytes, file: "v.conf")
            return nil
        } catch {
            return error
        }
    }

    @Test("string values take newlines and control characters, as nginx: a multi-line return, log_format's strings joined")
    func stringValues() throws {
        let text = """
            stream {
              log_format f '$remote_addr:
                $status' "\\t$connection\u{1}";
              server { listen 1; return "a\\nb
            c"; }
              server { listen 2; proxy_pass 127.0.0.1:9; access_log /tmp/f.log f "if=$status\\n"; }
            }
            """
        let configuration = try BalancerConfiguration.parse(text, file: "v.conf")
        #expect(configuration.listeners[0].edge?.returnValue == (try StreamTemplate(compiling: "a\nb\nc")))
        let log = try #require(configuration.listeners[1].accessLogs.first)
        var format = try StreamTemplate(compiling: "$remote_addr:\n    $status")
        try format.append(compiling: "\t$connection\u{1}")
        #expect(log.format.template == format)
        #expect(log.condition == (try StreamTemplate(compiling: "$status\n")))
        // An error past a newline of the string points into the line it is on.
        expectRejected(
            "stream { server { listen 1; return \"$remote_addr:\n      $nosuch\"; } }", file: "v.conf", line: 2, column: 7,
            message: "unknown \"nosuch\" variable")
    }

    @Test("a config must be UTF-8: \\xff and \\xfe no longer decode to the same name")
    func invalidUTF8() {
        var bytes = Array("stream {\n  upstream ".utf8) + [0xFF] + Array(" { server 127.0.0.1:1; }\n  server { listen 1; proxy_pass ".utf8)
        bytes += [0xFE] + Array("; }\n}\n".utf8)
        let error = Self.error(bytes: bytes)
        #expect(error?.line == 2 && error?.column == 12, "\(String(describing: error))")
        #expect(error?.message.contains("not valid UTF-8 (byte 0xFF") == true)
        // overlong and surrogate encodings too, even inside a comment
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            let error = Self.error(bytes: Array("# ".utf8) + bad + Array("\nstream {}".utf8))
            #expect(error?.line == 1 && error?.column == 3, "\(bad): \(String(describing: error))")
        }
        // valid UTF-8 (a BOM, comments and names in other scripts) is fine
        #expect(Self.error(bytes: [0xEF, 0xBB, 0xBF] + Array("# 所有\nstream { upstream ü { server 127.0.0.1:1; } server { listen 1; proxy_pass ü; } }".utf8)) == nil)
    }

    @Test("an error does not repeat a huge token: it is cut and escaped")
    func hugeToken() {
        let name = String(repeating: "x", count: 1_000_000) + "\u{1B}"
        let error = Self.error("stream { \(Self.upstream) server { listen 1; proxy_pass \(name); } }")
        #expect(error != nil)
        #expect((error?.description.utf8.count ?? .max) < 400, "\(error?.description.utf8.count ?? 0) bytes")
        #expect(error?.message.contains("more)") == true)
    }

    @Test("only regular files are read: a FIFO is refused at once instead of blocking")
    func fifo() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID().uuidString)").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        #expect {
            try BalancerConfiguration.load(path: path)
        } throws: { error in
            (error as? ConfigError)?.message.contains("not a regular file") == true
        }
    }

    @Test("check's own limits still pass what they should")
    func accepted() throws {
        let ok = [
            "stream { upstream u { zookeeper zk1:2181,[::1]:2181/muster/ path=/p; } server { listen [::]:1; proxy_pass u; } }",
            "stream { upstream u { zookeeper ::1:2181 path=/p; } server { listen *:1; proxy_pass u; } }",
            "stream { \(Self.upstream) admin 127.0.0.1:0; server { listen 0; proxy_pass u; } server { listen 0; proxy_pass u; } }",
            "stream { \(Self.upstream) admin 8001; server { listen 127.0.0.1:8000; proxy_pass u; } server { listen 127.0.0.2:8000; proxy_pass u; } }",
        ]
        for text in ok {
            #expect(Self.error(text) == nil, "\(text): \(String(describing: Self.error(text)))")
        }
    }

    @Test("the listen and admin directives are recorded for bind errors")
    func origins() throws {
        let configuration = try BalancerConfiguration.parse(
            "stream {\n  admin 127.0.0.1:9;\n  \(Self.upstream)\n  server { listen 127.0.0.1:7; proxy_pass u; }\n}", file: "b.conf")
        #expect(configuration.listenOrigins["127.0.0.1:7"] == "listen, b.conf:4:12")
        #expect(configuration.adminOrigin == "admin, b.conf:2:3")
    }

    /// Connect strings on both sides of the ZooKeeper host:port rule.
    static let connectStrings = [
        "zk1", "zk1:2181", "zk1:2181,zk2", "zk1:2181,zk2:2182/muster", ":2181", "[::1]:2181", "::1:2181", "[::1]",
        "zk1:0", "zk1:+1", "zk1:65536", "my_host:2181", "zk1:2181,", "zk1:2181/a/..", "127.0.0.1:2181/",
    ]

    @Test("check and the ZooKeeper client give one verdict on a connect string", arguments: connectStrings)
    func connectStringVerdict(_ hosts: String) {
        let client = Result { try ZooKeeperConfiguration(connectString: hosts).parsed() }
        let check = Self.error("stream { upstream u { zookeeper \(hosts) path=/p; } server { listen 1; proxy_pass u; } }")
        #expect((check == nil) == ((try? client.get()) != nil), "\(hosts): check \(String(describing: check)), client \(client)")
    }

    /// Addresses on both sides of the bind rule (IP literals only, port 0 allowed).
    static let bindAddresses = [
        "8000", ":8000", "*:8000", "0.0.0.0:0", "127.0.0.1:8000", "[::1]:8000", "[::]:1", "localhost:8000",
        "chat.example:8000", "256.0.0.1:1", "::1:8000", "127.0.0.1:65536", "127.0.0.1:+1", "[::1]", "",
    ]

    @Test("run --listen takes what the listen directive takes", arguments: bindAddresses)
    func listenFlagVerdict(_ text: String) {
        let flag = try? Endpoint.parse(text, .listen)
        let directive = Self.error("stream { \(Self.upstream) server { listen \"\(text)\"; proxy_pass u; } }")
        #expect((flag != nil) == (directive == nil), "\(text): flag \(String(describing: flag)), directive \(String(describing: directive))")
    }

    @Test("run --admin takes the admin directive's hosts (a bare port aside)", arguments: bindAddresses)
    func adminFlagVerdict(_ text: String) {
        let flag = try? Endpoint.parse(text, .adminFlag)
        let directive = Self.error("stream { \(Self.upstream) admin \"\(text)\"; server { listen 1; proxy_pass u; } }")
        if text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), !text.isEmpty {
            #expect(flag == nil)
            #expect(directive == nil)
        } else {
            #expect((flag != nil) == (directive == nil), "\(text): flag \(String(describing: flag)), directive \(String(describing: directive))")
        }
    }

    @Test("host:port parsing for --admin and --listen")
    func hostPort() {
        #expect((try? Endpoint.parse("127.0.0.1:8001", .adminFlag)) == Endpoint(host: "127.0.0.1", port: 8001))
        #expect((try? Endpoint.parse(":8001", .adminFlag)) == Endpoint(host: "127.0.0.1", port: 8001))
        #expect((try? Endpoint.parse("[::1]:8001", .adminFlag)) == Endpoint(host: "::1", port: 8001))
        #expect((try? Endpoint.parse("[::1]:8001", .adminFlag))?.description == "[::1]:8001")
        #expect((try? Endpoint.parse("8001", .adminFlag)) == nil)
        #expect((try? Endpoint.parse("host:99999", .adminFlag)) == nil)
        #expect((try? Endpoint.parse("host:x", .adminFlag)) == nil)
    }
}
