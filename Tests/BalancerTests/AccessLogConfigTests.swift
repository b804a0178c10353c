import Testing

@testable import Balancer

@Suite("Config: log_format and access_log")
struct AccessLogConfigTests {
    /// `streamLines` at stream level and a server of two listens ending with `serverLines` (line 5).
    static func text(stream streamLines: String = "", _ serverLines: String = "") -> String {
        "stream {\n  upstream u { server 127.0.0.1:6000; }\n  \(streamLines)\n  server { listen 8000; listen 8001; proxy_pass u;\n    \(serverLines)\n  }\n}"
    }

    static func logs(stream: String = "", _ server: String = "") throws -> [[AccessLogConfiguration]] {
        try BalancerConfiguration.parse(text(stream: stream, server), file: "a.conf").listeners.map(\.accessLogs)
    }

    static let format = "log_format basic '$remote_addr $status';"

    @Test("none by default; the stream's access_log for every listen, with its format, buffer and flush")
    func streamLevel() throws {
        #expect(try Self.logs() == [[], []])
        let logs = try Self.logs(stream: Self.format + " access_log /var/log/a.log basic buffer=32k flush=5s;")
        let format = LogFormat(name: "basic", template: try StreamTemplate(compiling: "$remote_addr $status"))
        #expect(logs[0] == [AccessLogConfiguration(path: "/var/log/a.log", format: format, bufferSize: 32 * 1024, flush: .seconds(5))])
        #expect(logs[1] == logs[0])
    }

    @Test("a server's lines replace the stream's; access_log off ends them; escape= and if= are read")
    func serverLevel() throws {
        let stream = Self.format + " log_format j escape=json '$remote_addr'; access_log /var/log/a.log basic;"
        let own = try Self.logs(stream: stream, "access_log /var/log/b.log j if=$status; access_log /var/log/c.log basic;")[0]
        #expect(own.map(\.path) == ["/var/log/b.log", "/var/log/c.log"])
        #expect(own[0].format.escape == .json)
        #expect(own[0].condition == (try StreamTemplate(compiling: "$status")))
        #expect(try Self.logs(stream: stream, "access_log off;") == [[], []])
        #expect(try Self.logs(stream: Self.format + " access_log off;", "") == [[], []])
    }

    @Test("log_format in a server is refused")
    func formatInServer() {
        expectRejected(Self.text(Self.format), file: "a.conf", line: 5, column: 5, message: "unknown or unsupported directive \"log_format\" in \"server\"")
    }
}
