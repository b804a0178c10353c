import ProxyEngine
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import Balancer

@Suite("Stream variables and log templates")
struct StreamTemplateTests {
    private static func address(_ text: String, _ port: UInt16) -> RecordAddress {
        var storage = [UInt8](repeating: 0, count: 16)
        let isV6 = text.contains(":")
        #expect(inet_pton(isV6 ? AF_INET6 : AF_INET, text, &storage) == 1)
        return RecordAddress(family: isV6 ? .inet6 : .inet, port: port, bytes: Array(storage.prefix(isV6 ? 16 : 4)))
    }

    /// A session from 10.0.0.7:51000 to 127.0.0.1:8000, two tries (the first refused), 1.234 s long.
    private static func values() -> SessionValues {
        var record = SessionRecord()
        record.serial = 42
        record.status = 200
        record.client = Self.address("10.0.0.7", 51000)
        record.server = Self.address("127.0.0.1", 8000)
        record.start = 1_000
        record.bytesReceived = 12
        record.bytesSent = 3456
        record.beginTry(Self.address("127.0.0.1", 6000), now: 1_000)
        record.endTry(now: 1_002)
        record.beginTry(Self.address("::1", 6002), now: 1_002)
        record.withCurrentTry {
            $0.connectTime = 1
            $0.firstByteTime = 25
            $0.bytesSent = 12
            $0.bytesReceived = 3456
        }
        record.end = 2_234
        record.endTry(now: 2_234)
        // Wall clock: record.end + offset = 1764648115.678 s (02 Dec 2025 04:01:55.678 UTC).
        let host = SessionValues.Host(hostname: Array("lb1".utf8), pid: 4321, wallOffset: 1_764_648_115_678 - 2_234)
        return SessionValues(record: record, host: host)
    }

    private static func text(_ variable: StreamVariable, _ values: SessionValues = values()) -> String? {
        values.value(variable).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("each variable is formatted as nginx formats it")
    func variables() {
        #expect(Self.text(.remoteAddr) == "10.0.0.7")
        #expect(Self.text(.remotePort) == "51000")
        #expect(Self.values().value(.binaryRemoteAddr) == [10, 0, 0, 7])
        #expect(Self.text(.serverAddr) == "127.0.0.1")
        #expect(Self.text(.serverPort) == "8000")
        #expect(Self.text(.protocol) == "TCP")
        #expect(Self.text(.status) == "200")
        #expect(Self.text(.bytesSent) == "3456")
        #expect(Self.text(.bytesReceived) == "12")
        #expect(Self.text(.sessionTime) == "1.234")
        #expect(Self.text(.connection) == "42")
        #expect(Self.text(.msec) == "1764648115.678")
        #expect(Self.text(.hostname) == "lb1")
        #expect(Self.text(.pid) == "4321")
        // nginx-tests' stream_variables.t checks the form: digits and dots.
        #expect(Self.text(.nginxVersion)?.allSatisfy { $0.isNumber || $0 == "." } == true)
        #expect(Self.text(.nginxVersion) == StreamVariable.nginxRelease)
        #expect(Self.text(.upstreamAddr) == "127.0.0.1:6000, [::1]:6002")
        #expect(Self.text(.upstreamBytesSent) == "0, 12")
        #expect(Self.text(.upstreamBytesReceived) == "0, 3456")
        #expect(Self.text(.upstreamConnectTime) == "-, 0.001")
        #expect(Self.text(.upstreamFirstByteTime) == "-, 0.025")
        #expect(Self.text(.upstreamSessionTime) == "0.002, 1.232")
        #expect(Self.text(.proxyProtocolAddr) == nil)
        #expect(Self.text(.proxyProtocolPort) == nil)
        #expect(Self.text(.realipRemoteAddr) == "10.0.0.7")
        #expect(Self.text(.realipRemotePort) == "51000")
    }

    @Test("after realip: $remote_addr/$remote_port are the PROXY header's client, $realip_remote_addr/$realip_remote_port the peer that sent it")
    func realip() {
        var values = Self.values()
        values.record.realipPeer = values.record.client
        values.record.client = Self.address("192.0.2.1", 1234)
        values.record.proxyProtocol = values.record.client
        #expect(Self.text(.remoteAddr, values) == "192.0.2.1")
        #expect(Self.text(.remotePort, values) == "1234")
        #expect(values.value(.binaryRemoteAddr) == [192, 0, 2, 1])
        #expect(Self.text(.realipRemoteAddr, values) == "10.0.0.7")
        #expect(Self.text(.realipRemotePort, values) == "51000")
    }

    @Test("a try that found no live member: $upstream_addr names the group, as nginx's peers->name")
    func noLiveMember() {
        var values = Self.values()
        values.upstreamName = Array("u2".utf8)
        values.record.noLiveMemberTry(now: 2_234)
        values.record.endTry(now: 2_234)
        #expect(Self.text(.upstreamAddr, values) == "127.0.0.1:6000, [::1]:6002, u2")
        #expect(Self.text(.upstreamConnectTime, values) == "-, 0.001, -")
        #expect(Self.text(.upstreamSessionTime, values) == "0.002, 1.232, 0.000")
        var alone = SessionRecord()
        alone.noLiveMemberTry(now: 5)
        alone.endTry(now: 5)
        values.record = alone
        #expect(Self.text(.upstreamAddr, values) == "u2")
        #expect(Self.text(.upstreamBytesSent, values) == "0")
    }

    @Test("no upstream tried: the upstream variables have no value; a status of 502; a PROXY address when given")
    func missingValues() {
        var values = Self.values()
        var record = SessionRecord()
        record.status = 502
        record.client = Self.address("::ffff:10.0.0.1", 1)
        record.proxyProtocol = Self.address("192.0.2.9", 4000)
        values.record = record
        for variable in [StreamVariable.upstreamAddr, .upstreamBytesSent, .upstreamBytesReceived, .upstreamConnectTime,
            .upstreamFirstByteTime, .upstreamSessionTime]
        {
            #expect(values.value(variable) == nil, "\(variable)")
        }
        #expect(Self.text(.status, values) == "502")
        #expect(Self.text(.sessionTime, values) == "0.000")
        #expect(Self.text(.remoteAddr, values) == "::ffff:10.0.0.1")
        #expect(values.value(.binaryRemoteAddr)?.count == 16)
        #expect(Self.text(.serverAddr, values) == "")
        #expect(Self.text(.serverPort, values) == "")
        #expect(Self.text(.proxyProtocolAddr, values) == "192.0.2.9")
        #expect(Self.text(.proxyProtocolPort, values) == "4000")
    }

    @Test("$time_local and $time_iso8601 in nginx's layouts, with the zone offset")
    func times() {
        var parts = tm()
        parts.tm_year = 2025 - 1900
        parts.tm_mon = 11
        parts.tm_mday = 2
        parts.tm_hour = 5
        parts.tm_min = 1
        parts.tm_sec = 9
        parts.tm_gmtoff = 3600 + 30 * 60
        #expect(String(decoding: SessionValues.timeLocal(parts), as: UTF8.self) == "02/Dec/2025:05:01:09 +0130")
        #expect(String(decoding: SessionValues.timeISO8601(parts), as: UTF8.self) == "2025-12-02T05:01:09+01:30")
        parts.tm_gmtoff = -5 * 3600
        #expect(String(decoding: SessionValues.timeLocal(parts), as: UTF8.self) == "02/Dec/2025:05:01:09 -0500")
        #expect(String(decoding: SessionValues.timeISO8601(parts), as: UTF8.self) == "2025-12-02T05:01:09-05:00")
        // The session's own values go through the local time of its end.
        let local = SessionValues.local(1_764_648_115)
        #expect(Self.values().value(.timeLocal) == SessionValues.timeLocal(local))
        #expect(Self.values().value(.timeISO8601) == SessionValues.timeISO8601(local))
    }

    @Test("templates: $name and ${name} forms, literal text kept, names case-insensitive as nginx")
    func compile() throws {
        let template = try StreamTemplate(compiling: "$remote_addr [${status}]x$Bytes_Sent-$protocol")
        #expect(
            template.parts == [
                .variable(.remoteAddr), .literal(Array(" [".utf8)), .variable(.status), .literal(Array("]x".utf8)),
                .variable(.bytesSent), .literal(Array("-".utf8)), .variable(.protocol),
            ])
        #expect(String(decoding: template.evaluate(Self.values()), as: UTF8.self) == "10.0.0.7 [200]x3456-TCP")
        #expect(template.variables == [.remoteAddr, .status, .bytesSent, .protocol])
        #expect(try StreamTemplate(compiling: "$remote_addr").soleVariable == .remoteAddr)
        #expect(try StreamTemplate(compiling: "$remote_addr:").soleVariable == nil)
        #expect(try StreamTemplate(compiling: "no variables").parts == [.literal(Array("no variables".utf8))])
        #expect(try StreamTemplate(compiling: "").parts.isEmpty)
    }

    @Test("template errors: an unknown variable, a lone $, an unclosed bracket, each with its offset")
    func errors() {
        #expect(throws: StreamTemplate.Invalid(offset: 3, message: "unknown \"request_uri\" variable")) {
            try StreamTemplate(compiling: "ab $request_uri")
        }
        #expect(throws: StreamTemplate.Invalid(offset: 2, message: "invalid variable name after \"$\"")) {
            try StreamTemplate(compiling: "x $")
        }
        #expect(throws: StreamTemplate.Invalid(offset: 0, message: "invalid variable name after \"$\"")) {
            try StreamTemplate(compiling: "$ x")
        }
        #expect(throws: StreamTemplate.Invalid(offset: 1, message: "the closing bracket in \"status\" variable is missing")) {
            try StreamTemplate(compiling: "-${status")
        }
        #expect(throws: StreamTemplate.Invalid(offset: 0, message: "invalid variable name after \"$\"")) {
            try StreamTemplate(compiling: "${}")
        }
    }

    @Test("escape=default: control bytes, quote, backslash, DEL and high bytes as \\xHH; missing as -")
    func escapeDefault() {
        var out: [UInt8] = []
        LogEscape.default.append([0x00, 0x1F, 0x20, 0x22, 0x41, 0x5C, 0x7E, 0x7F, 0x80, 0xFF, 0x27], into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"\x00\x1F \x22A\x5C~\x7F\x80\xFF'"#)
        out = []
        LogEscape.default.append(nil, into: &out)
        #expect(out == Array("-".utf8))
    }

    @Test("escape=json: quote, backslash, the named controls, other controls as \\u00XX; UTF-8 kept; missing as nothing")
    func escapeJSON() {
        var out: [UInt8] = []
        LogEscape.json.append([0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C, 0x01, 0x1B, 0x1F, 0x7F, 0xC3, 0xA9, 0x2F], into: &out)
        #expect(out == Array(#"\"\\\n\r\t\b\f\u0001\u001B\u001F"#.utf8) + [0x7F, 0xC3, 0xA9, 0x2F])
        out = []
        LogEscape.json.append(nil, into: &out)
        #expect(out.isEmpty)
    }

    @Test("escape=none: the bytes as they are; missing as nothing")
    func escapeNone() {
        var out: [UInt8] = []
        LogEscape.none.append([0x00, 0x22, 0xFF], into: &out)
        #expect(out == [0x00, 0x22, 0xFF])
        LogEscape.none.append(nil, into: &out)
        #expect(out == [0x00, 0x22, 0xFF])
    }

    @Test("a template renders literal text unescaped and variables escaped")
    func render() throws {
        let template = try StreamTemplate(compiling: "\"$upstream_addr\" $proxy_protocol_addr")
        var out: [UInt8] = []
        template.render(Self.values(), escape: .default, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "\"127.0.0.1:6000, [::1]:6002\" -")
        out = []
        template.render(Self.values(), escape: .json, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "\"127.0.0.1:6000, [::1]:6002\" ")
    }
}
