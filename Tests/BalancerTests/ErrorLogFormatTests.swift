import Foundation
import Logging
import MusterBase
import ProxyEngine
import Testing

@testable import Balancer

/// What a listener's error log says about a session (nginx's stream messages), `error_log syslog:`
/// as nginx reads it, and the syslog header.
@Suite("Error log: session messages and syslog")
struct ErrorLogFormatTests {
    static let message = SessionMessage(listen: "127.0.0.1:8080", upstream: "u", zones: ["addr"])

    static func event(_ kind: SessionEvent.Kind, _ level: LogLevel = .info) -> SessionEvent {
        var event = SessionEvent(kind: kind, level: level)
        event.serial = 3
        event.client = RecordAddress(family: .inet, port: 40000, bytes: [127, 0, 0, 1])
        event.peer = RecordAddress(family: .inet, port: 8081, bytes: [127, 0, 0, 1])
        event.local = RecordAddress(family: .inet, port: 50000, bytes: [127, 0, 0, 1])
        event.clientReceived = 5
        event.clientSent = 4
        event.upstreamReceived = 4
        event.upstreamSent = 5
        return event
    }

    @Test("each event in nginx's words, with its log handler's context where nginx adds one")
    func texts() {
        let context = "client: 127.0.0.1, server: 127.0.0.1:8080"
        let bytes = "bytes from/to client:5/4, bytes from/to upstream:4/5"
        var refused = Self.event(.connectFailed, .error)
        refused.error = ECONNREFUSED
        var timedOut = Self.event(.connectFailed, .error)
        timedOut.error = ETIMEDOUT
        var byUpstream = Self.event(.disconnected)
        byUpstream.byUpstream = true
        let expected: [(SessionEvent, String)] = [
            (Self.event(.clientConnected), "*3 client 127.0.0.1:40000 connected to 127.0.0.1:8080"),
            (Self.event(.upstreamConnected), "*3 proxy 127.0.0.1:50000 connected to 127.0.0.1:8081"),
            (Self.event(.disconnected), "*3 client disconnected, \(bytes)"),
            (byUpstream, "*3 upstream disconnected, \(bytes)"),
            (Self.event(.noLiveUpstreams, .error), "*3 no live upstreams while connecting to upstream, \(context), upstream: \"u\", \(bytes)"),
            (refused, "*3 connect() failed (111: Connection refused) while connecting to upstream, \(context), upstream: \"127.0.0.1:8081\", \(bytes)"),
            (timedOut, "*3 upstream timed out (110: Connection timed out) while connecting to upstream, \(context), upstream: \"127.0.0.1:8081\", \(bytes)"),
            (Self.event(.idleTimedOut), "*3 connection timed out (110: Connection timed out) while proxying connection, \(context), upstream: \"127.0.0.1:8081\", \(bytes)"),
            (Self.event(.forbidden, .error), "*3 access forbidden by rule while initializing session, \(context)"),
            (Self.event(.limited, .notice), "*3 limiting connections by zone \"addr\" while initializing session, \(context)"),
        ]
        for (event, text) in expected {
            #expect(Self.message.text(event) == text)
        }
    }

    static func destination(_ text: String) throws(ConfigError) -> ErrorLogConfiguration.Destination? {
        let stream = "stream { upstream u { server 127.0.0.1:6000; } server { listen 8000; proxy_pass u; } }"
        return try BalancerConfiguration.parse(bytes: Array("error_log \(text) info;\n\(stream)".utf8), file: "s.conf").errorLogs.first?.destination
    }

    @Test("error_log syslog: server with nginx's default port 514, facility local7 and tag nginx; every parameter read")
    func syslogParameters() throws {
        #expect(try Self.destination("syslog:server=127.0.0.1") == .syslog(SyslogTarget(server: Endpoint(host: "127.0.0.1", port: 514))))
        #expect(
            try Self.destination("syslog:server=[::1]:5140,facility=local0,severity=warn,tag=muster_1,nohostname")
                == .syslog(SyslogTarget(server: Endpoint(host: "::1", port: 5140), facility: 16, severity: 4, tag: "muster_1", noHostname: true)))
    }

    @Test("bad syslog parameters are refused in nginx's words, at the argument", arguments: [
        ("syslog:tag=a", "no syslog server specified"),
        ("syslog:server=127.0.0.1,server=127.0.0.2", "duplicate syslog \"server\""),
        ("syslog:server=127.0.0.1:99999", "in syslog server \"127.0.0.1:99999\""),
        ("syslog:server=127.0.0.1,facility=local9", "unknown syslog facility \"local9\""),
        ("syslog:server=127.0.0.1,severity=err", "unknown syslog severity \"err\""),
        ("syslog:server=127.0.0.1,tag=a-b", "syslog \"tag\" only allows alphanumeric characters and underscore"),
        ("syslog:server=127.0.0.1,tag=\(String(repeating: "a", count: 33))", "syslog tag length exceeds 32"),
        ("syslog:server=127.0.0.1,loud", "unknown syslog parameter \"loud\""),
    ])
    func syslogRefused(text: String, message: String) {
        do {
            _ = try Self.destination(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.message.contains(message), "\(error)")
            #expect(error.message.hasSuffix("in \"error_log\""), "\(error)")
            #expect(error.line == 1 && error.column == 11, "\(error)")
        }
    }

    @Test("the syslog header: <facility*8+severity>, the local time as RFC 3164 writes it, the host unless nohostname, the tag")
    func syslogHeader() throws {
        let noHost = try SyslogSender(SyslogTarget(server: Endpoint(host: "127.0.0.1", port: 514), tag: "t", noHostname: true))
        // 2026-12-02 07:05:01 UTC; the day is padded with a space, as strftime's %e.
        let seconds: time_t = 1_796_195_101
        var time = seconds
        var parts = tm()
        localtime_r(&time, &parts)
        var text = [CChar](repeating: 0, count: 64)
        strftime(&text, 64, "%b %e %H:%M:%S", &parts)
        let stamp = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #expect(noHost.header(level: .error, time: seconds) == "<187>\(stamp) t: ")
        #expect(noHost.header(level: .critical, time: seconds) == "<186>\(stamp) t: ")
        #expect(noHost.header(level: .debug, time: seconds) == "<191>\(stamp) t: ")
        let withHost = try SyslogSender(SyslogTarget(server: Endpoint(host: "127.0.0.1", port: 514), facility: 1))
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased()
        #expect(withHost.header(level: .info, time: seconds) == "<14>\(stamp) \(host) nginx: ")
    }
}
