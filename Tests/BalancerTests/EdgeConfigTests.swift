import ProxyEngine
import Testing

@testable import Balancer

@Suite("Config: PROXY protocol, set_real_ip_from, allow/deny, limit_conn")
struct EdgeConfigTests {
    /// A config with `streamLines` at stream level and a server of two listens ending with `serverLines`.
    static func text(stream streamLines: String = "", listen: String = "8000", _ serverLines: String) -> String {
        "stream {\n  upstream u { server 127.0.0.1:6000; }\n  \(streamLines)\n  server { listen \(listen); listen 8001; proxy_pass u;\n    \(serverLines)\n  }\n}"
    }

    static func edges(stream: String = "", listen: String = "8000", _ server: String) throws -> [EdgeConfiguration?] {
        try BalancerConfiguration.parse(text(stream: stream, listen: listen, server), file: "a.conf").listeners.map(\.edge)
    }

    @Test("nothing configured: no edge; listen ... proxy_protocol on one listen only, with nginx's 30s timeout")
    func proxyProtocolIn() throws {
        #expect(try Self.edges("") == [nil, nil])
        let edges = try Self.edges(listen: "8000 proxy_protocol", "")
        #expect(edges[0]?.readsProxyProtocol == true)
        #expect(edges[0]?.proxyProtocolTimeout == .seconds(30))
        #expect(edges[1] == nil)
        #expect(try Self.edges(stream: "proxy_protocol_timeout 5s;", listen: "8000 proxy_protocol", "")[0]?.proxyProtocolTimeout == .seconds(5))
        // 0 as nginx: at once (the engine's timer of at least 1 ms).
        #expect(try Self.edges(stream: "proxy_protocol_timeout 0;", listen: "8000 proxy_protocol", "")[0]?.proxyProtocolTimeout == .zero)
    }

    @Test("proxy_protocol on at stream level, off in the server; set_real_ip_from and allow/deny in order")
    func inheritance() throws {
        #expect(try Self.edges(stream: "proxy_protocol on;", "").map { $0?.sendsProxyProtocol } == [true, true])
        #expect(try Self.edges(stream: "proxy_protocol on;", "proxy_protocol off;") == [nil, nil])
        let edge = try #require(try Self.edges(stream: "allow 10.0.0.0/8; deny all;", "set_real_ip_from 127.0.0.1; set_real_ip_from ::1;")[0])
        #expect(edge.realIPFrom == [CIDR(text: "127.0.0.1")!, CIDR(text: "::1")!])
        #expect(edge.access == AccessList([
            AccessList.Rule(allows: true, block: CIDR(text: "10.0.0.0/8")), AccessList.Rule(allows: false, block: nil),
        ]))
        // A server's own rules replace the stream's, as nginx merges the access module's arrays.
        let own = try #require(try Self.edges(stream: "allow 10.0.0.0/8; deny all;", "deny 192.0.2.1;")[0])
        #expect(own.access == AccessList([AccessList.Rule(allows: false, block: CIDR(text: "192.0.2.1"))]))
    }

    @Test("limit_conn_zone and limit_conn: the zone's key and size, the limit; limit_conn_log_level from stream, else error")
    func limits() throws {
        let edge = try #require(
            try Self.edges(stream: "limit_conn_zone $binary_remote_addr zone=addr:1m; limit_conn_log_level warn;", "limit_conn addr 2;")[0])
        #expect(edge.limits == [LimitConnConfiguration(zone: .init(name: "addr", key: .binaryRemoteAddress, size: 1 << 20), limit: 2)])
        #expect(edge.limitLogLevel == .warning)
        let plain = try #require(try Self.edges(stream: "limit_conn_zone $binary_remote_addr zone=addr:1m;", "limit_conn addr 2;")[0])
        #expect(plain.limitLogLevel == .error)
    }

    @Test("return VALUE: a server without proxy_pass, its template on every listen, bound to the empty (return) group")
    func returnValue() throws {
        let text = "stream {\n  server { listen 8000; listen 8001; return '$remote_addr:${remote_port}!$connection'; }\n}"
        let configuration = try BalancerConfiguration.parse(text, file: "a.conf")
        let template = try StreamTemplate(compiling: "$remote_addr:${remote_port}!$connection")
        #expect(configuration.listeners.map { $0.edge?.returnValue } == [template, template])
        #expect(configuration.listeners.map(\.proxyPass) == [ReturnSetting.upstreamName, ReturnSetting.upstreamName])
        #expect(configuration.upstreams.map(\.name) == [ReturnSetting.upstreamName])
        // nginx-tests' stream_variables.t: the byte counts are 0 when the value is made, as in nginx.
        let vars = "$connection:$nginx_version:$hostname:$pid:$bytes_sent:$bytes_received"
        let variables = try BalancerConfiguration.parse("stream { server { listen 1; return \(vars); } }", file: "a.conf")
        #expect(variables.listeners.first?.edge?.returnValue == (try StreamTemplate(compiling: vars)))
    }
}
