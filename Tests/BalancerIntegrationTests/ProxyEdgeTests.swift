import Balancer
import Foundation
import MusterBase
import TestSupport
import Testing

/// The edge directives through the in-process balancer, read from config text: PROXY header in
/// and out, allow/deny and limit_conn, against an echoing backend.
@Suite("Proxy edge: PROXY protocol, access, limits", .timeLimit(.minutes(2)))
struct ProxyEdgeTests {
    /// A balancer on config text whose one listener, on `listen`, proxies to `backend` with the
    /// server-block `lines` (and `stream` lines beside the group).
    static func balancer(
        in scene: TestScene, to backend: TestBackend, listen: String = "127.0.0.1:0", _ lines: String, stream: String = ""
    ) async throws -> RunningBalancer {
        try await scene.balancer(
            config: """
                stream {
                  \(stream)
                  upstream backends { server 127.0.0.1:\(backend.port); }
                  server { listen \(listen); proxy_pass backends; proxy_half_close on; \(lines) }
                }
                """,
            file: "edge.conf")
    }

    /// Backend "a" and ``balancer(in:to:listen:_:stream:)`` to it, taken down after `body`.
    static func with(
        listen: String = "127.0.0.1:0", _ lines: String, stream: String = "", _ body: (RunningBalancer, TestBackend) async throws -> Void
    ) async throws {
        try await TestScene.with { scene in
            let backend = try await scene.backend("a")
            try await body(try await Self.balancer(in: scene, to: backend, listen: listen, lines, stream: stream), backend)
        }
    }

    @Test("listen ... proxy_protocol and proxy_protocol on, no set_real_ip_from: the member's v1 line names this connection, as nginx's does")
    func proxyProtocolThrough() async throws {
        try await Self.with(listen: "127.0.0.1:0 proxy_protocol", "proxy_protocol on;") { balancer, backend in
            let header = Array("PROXY TCP4 192.0.2.1 192.0.2.2 1234 5678\r\n".utf8)
            let received = String(
                decoding: try await TestClient.exchange(port: balancer.port, payload: header + Array("hello".utf8)), as: UTF8.self)
            // The backend greets, then echoes what it got: the line the balancer wrote, then the client's bytes.
            let prefix = "a\nPROXY TCP4 127.0.0.1 127.0.0.1 "
            let suffix = " \(balancer.port)\r\nhello"
            #expect(received.hasPrefix(prefix) && received.hasSuffix(suffix), "\(received)")
            let clientPort = received.dropFirst(prefix.count).dropLast(suffix.count)
            #expect(!clientPort.isEmpty && clientPort.allSatisfy(\.isNumber), "\(received)")
            // A broken header: closed (reset, since its bytes are unread), the backend never sees a connection for it.
            let before = backend.accepted
            let refused = try? await TestClient.exchange(port: balancer.port, payload: Array("GET / HTTP/1.0\r\n\r\n".utf8))
            #expect(refused ?? [] == [])
            #expect(backend.accepted == before)
        }
    }

    @Test("set_real_ip_from the PROXY peer: the member's v1 line and the access log name the header's client, $realip_remote_addr the peer")
    func realipThrough() async throws {
        try await TestScene.with { scene in
            let log = try scene.folder("muster-access") + "/access.log"
            let backend = try await scene.backend("a")
            let balancer = try await Self.balancer(
                in: scene, to: backend, listen: "127.0.0.1:0 proxy_protocol",
                "proxy_protocol on; set_real_ip_from 127.0.0.1; access_log \(log) realip;",
                stream: "log_format realip '$remote_addr:$remote_port $binary_remote_addr $realip_remote_addr $proxy_protocol_addr';")
            let header = Array("PROXY TCP4 192.0.2.1 192.0.2.2 1234 5678\r\n".utf8)
            let received = try await TestClient.exchange(port: balancer.port, payload: header + Array("hello".utf8))
            #expect(received == Array("a\nPROXY TCP4 192.0.2.1 127.0.0.1 1234 \(balancer.port)\r\nhello".utf8))
            await balancer.stop()
            #expect(ProxyAccessLogTests.lines(log) == ["192.0.2.1:1234 \\xC0\\x00\\x02\\x01 127.0.0.1 192.0.2.1", ""])
        }
    }

    @Test("deny 127.0.0.1: the client is closed before any member is picked; allow all after a deny of another address lets it in")
    func access() async throws {
        try await TestScene.with { scene in
            let backend = try await scene.backend("a")
            let denying = try await Self.balancer(in: scene, to: backend, "deny 127.0.0.1; allow all;")
            #expect(try await TestClient.name(port: denying.port) == nil)
            #expect(backend.accepted == 0)
            await denying.stop()
            let allowing = try await Self.balancer(in: scene, to: backend, "deny 192.0.2.1; allow all;")
            #expect(try await TestClient.name(port: allowing.port) == "a")
        }
    }

    @Test("limit_conn 2: two held connections are served, the third is closed, and after one closes another fits")
    func limitConn() async throws {
        try await Self.with("limit_conn edge-test 2;", stream: "limit_conn_zone $binary_remote_addr zone=edge-test:64k;") { balancer, _ in
            let first = try #require(try await TestClient.hold(port: balancer.port))
            let second = try #require(try await TestClient.hold(port: balancer.port))
            #expect(try await TestClient.name(port: balancer.port) == nil)
            first.close(promise: nil)
            // The count is released once the balancer has closed both sides of that session.
            #expect(try await waitUntil { try await TestClient.name(port: balancer.port) == "a" })
            second.close(promise: nil)
        }
    }

    @Test("return: the value, with the client's address (realip from a trusted PROXY header), then the close")
    func returnValue() async throws {
        try await TestScene.with { scene in
            func start(_ server: String) async throws -> RunningBalancer {
                try await scene.balancer(config: "stream { server { \(server) } }", file: "return.conf")
            }
            // A quoted value keeps its newline, as nginx-tests' stream_realip.t writes it.
            let plain = try await start("listen 127.0.0.1:0; return \"$remote_addr:\n  \\t$remote_port\";")
            let answer = try await TestClient.exchange(port: plain.port, payload: Array("ignored".utf8))
            let prefix = Array("127.0.0.1:\n  \t".utf8)
            let port = answer.dropFirst(prefix.count)
            #expect(answer.starts(with: prefix) && !port.isEmpty && port.allSatisfy { (0x30...0x39).contains($0) }, "\(answer)")
            await plain.stop()
            let realip = try await start(
                "listen 127.0.0.1:0 proxy_protocol; set_real_ip_from 127.0.0.1; return '$remote_addr:$remote_port $proxy_protocol_addr:$proxy_protocol_port $realip_remote_addr';")
            let header = Array("PROXY TCP4 192.0.2.1 192.0.2.2 1234 5678\r\n".utf8)
            #expect(try await TestClient.exchange(port: realip.port, payload: header) == Array("192.0.2.1:1234 192.0.2.1:1234 127.0.0.1".utf8))
            // The group a returning listener is bound to is no upstream: not listed, no metrics.
            let admin = Endpoint(host: "127.0.0.1", port: realip.adminPort)
            let report = try await AdminClient.members(from: admin)
            #expect(report.upstreams.isEmpty)
            #expect(report.listeners.map(\.upstream) == ["(return)"])
            let metrics = String(decoding: try await AdminClient.get("/metrics", from: admin), as: UTF8.self)
            #expect(!metrics.contains("(return)"), "\(metrics)")
        }
    }
}
