import ProxyProtocolCodec
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import ProxyEngine

/// The worker's edge stages over real sockets: PROXY header in (v1, v2, broken, late), PROXY v1 out,
/// realip, allow/deny, limit_conn counts and `return`.
@Suite("Worker edge: PROXY protocol, access, limits, return", .timeLimit(.minutes(1)))
struct WorkerEdgeTests {
    /// A worker whose route dials its member listener, with `edge`, and `log` if given.
    static func worker(_ edge: SessionEdge, log: SessionLog? = nil) throws -> WorkerHarness {
        try WorkerHarness { port in
            let route = TestRoute(
                settings: RouteSettings(connectTimeout: 1_000, idleTimeout: 0, halfClose: false, needsClientAddress: log != nil),
                port: port, firstTryOnly: false, edge: edge)
            route.sessionLog = log
            return route
        }
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func peer(_ text: String, _ port: UInt16 = 40000) -> ProxyProtocolEndpoint {
        ProxyProtocolEndpoint(address: IPAddress(text: text)!, port: port)
    }

    static let trusted = [CIDR(text: "127.0.0.1")!]

    @Test("PROXY v1 in, split over two writes, from a trusted peer: v1 out with the header's client and this side's address, then the client's bytes")
    func v1InV1Out() throws {
        let worker = try Self.worker(SessionEdge(readsProxyProtocol: true, realIPFrom: Self.trusted, sendsProxyProtocol: true))
        let client = worker.tcpClient()
        worker.write(client.fd, "PROXY TCP4 192.0.2.1 192.0")
        for _ in 0..<5 { worker.core.turn(maxWait: 1) }
        #expect(worker.route.picks == 0)
        worker.write(client.fd, ".2.2 1234 5678\r\nhello")
        let member = worker.member()
        #expect(member >= 0)
        let expected = Self.bytes("PROXY TCP4 192.0.2.1 127.0.0.1 1234 \(client.frontPort)\r\nhello")
        #expect(worker.read(member, expected.count).bytes == expected)
        worker.closeAll()
    }

    @Test("PROXY v2 in (TCP over IPv6, with a TLV) from a trusted peer: v1 out as TCP6, this side's IPv4 address mapped")
    func v2InV1Out() throws {
        let worker = try Self.worker(SessionEdge(readsProxyProtocol: true, realIPFrom: Self.trusted, sendsProxyProtocol: true))
        let client = worker.tcpClient()
        let source: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
        let destination: [UInt8] = [UInt8](repeating: 0, count: 15) + [2]
        let block = source + destination + [0x04, 0xD2, 0x01, 0xBB] + [0x04, 0x00, 0x01, 0x00]
        let header = ProxyProtocolTests.signature + [0x21, 0x21, 0x00, UInt8(block.count)] + block
        worker.write(client.fd, header + Self.bytes("data"))
        let member = worker.member()
        let expected = Self.bytes("PROXY TCP6 2001:db8::1 ::ffff:127.0.0.1 1234 \(client.frontPort)\r\ndata")
        #expect(worker.read(member, expected.count).bytes == expected)
        worker.closeAll()
    }

    @Test(
        "the PROXY header's client reaches every consumer (allow/deny, limit_conn, the hash, the PROXY line out, the record) from a peer in set_real_ip_from, and none from another",
        arguments: [true, false])
    func realip(trusted: Bool) throws {
        let log = SessionLog(workers: 1, needsServerAddress: false)
        let zone = ConnectionLimitZone(name: "addr", size: 1 << 20)
        // Only the address realip leaves is let in, and counted.
        let client = trusted ? "192.0.2.1" : "127.0.0.1"
        let onlyTheClient = AccessList([
            AccessList.Rule(allows: true, block: CIDR(text: client)), AccessList.Rule(allows: false, block: nil),
        ])
        let worker = try Self.worker(
            SessionEdge(
                readsProxyProtocol: true, realIPFrom: trusted ? Self.trusted : [CIDR(text: "127.0.0.2")!], access: onlyTheClient,
                limits: [ConnectionLimit(zone: zone, limit: 1, key: .remoteAddress)], sendsProxyProtocol: true),
            log: log)
        let tcp = worker.tcpClient()
        worker.write(tcp.fd, "PROXY TCP4 192.0.2.1 192.0.2.2 1234 5678\r\nhi")
        let member = worker.member()
        #expect(member >= 0)
        // Untrusted: nginx-tests' stream_proxy_protocol.t line, the connection's own addresses.
        let clientPort = trusted ? 1234 : tcp.clientPort
        let expected = Self.bytes("PROXY TCP4 \(client) 127.0.0.1 \(clientPort) \(tcp.frontPort)\r\nhi")
        #expect(worker.read(member, expected.count).bytes == expected)
        #expect(worker.route.pickedFor == client)
        #expect(zone.count(Self.bytes(client)) == 1)
        worker.close(tcp.fd, member)
        let record = try #require(Self.finished(worker, log))
        let peer = RecordAddress(Self.peer("127.0.0.1", UInt16(tcp.clientPort)))
        #expect(record.client == RecordAddress(Self.peer(client, UInt16(clientPort))))
        #expect(record.realipPeer == (trusted ? peer : RecordAddress()))
        #expect(record.proxyProtocol == RecordAddress(Self.peer("192.0.2.1", 1234)))
        #expect(zone.count(Self.bytes(client)) == 0)
        worker.closeAll()
    }

    @Test("proxy_protocol on for a client that is no IP connection (a unix socket): the spec's UNKNOWN line")
    func unknownOut() throws {
        let worker = try Self.worker(SessionEdge(sendsProxyProtocol: true))
        worker.client()
        let member = worker.member()
        let expected = Self.bytes("PROXY UNKNOWN\r\n")
        #expect(worker.read(member, expected.count).bytes == expected)
        worker.closeAll()
    }

    /// The one record the session left once both sides closed, turning the worker.
    static func finished(_ worker: WorkerHarness, _ log: SessionLog) -> SessionRecord? {
        guard worker.sessionsEnded() else { return nil }
        var records: [SessionRecord] = []
        log.drain { records.append(copy $0) }
        return records.count == 1 ? records[0] : nil
    }

    @Test("a broken header, an EOF inside one and no header before proxy_protocol_timeout each close the client: 400, no upstream")
    func badHeaders() throws {
        let worker = try Self.worker(SessionEdge(readsProxyProtocol: true, proxyProtocolTimeout: 50))
        let errors = SessionErrorLog(workers: 1, level: .info)
        worker.route.errorLog = errors
        let broken = worker.client()
        worker.write(broken, "GET / HTTP/1.0\r\n\r\n")
        #expect(worker.read(broken, 0).eof)
        let cut = worker.client()
        worker.write(cut, "PROXY TCP4 192.0.2.1")
        _ = shutdown(cut, Int32(SHUT_WR))
        #expect(worker.read(cut, 0).eof)
        let silent = worker.client()
        #expect(worker.read(silent, 0).eof)
        #expect(worker.route.picks == 0)
        #expect(worker.core.openSessions == 0)
        // nginx's `broken header` (error) twice, then `client timed out` (info, ETIMEDOUT).
        var reported: [String] = []
        errors.drain { event in
            if event.kind != .clientConnected { reported.append("\(event.kind) \(event.level) \(event.error)") }
        }
        #expect(reported == ["badProxyHeader error 0", "badProxyHeader error 0", "badProxyHeader info \(ETIMEDOUT)"])
        worker.closeAll()
    }

    @Test("allow/deny on the client's address; with set_real_ip_from the trusted peer's PROXY source is checked instead")
    func access() throws {
        let rules = AccessList([
            AccessList.Rule(allows: true, block: CIDR(text: "192.0.2.0/24")),
            AccessList.Rule(allows: false, block: nil),
        ])
        let worker = try Self.worker(SessionEdge(access: rules))
        #expect(worker.refuses(Self.peer("198.51.100.1")))
        #expect(worker.route.picks == 0)
        worker.proxied(from: Self.peer("192.0.2.9"))
        #expect(worker.route.picks == 1)
        worker.closeAll()

        let realip = try Self.worker(SessionEdge(readsProxyProtocol: true, realIPFrom: [CIDR(text: "127.0.0.1")!], access: rules))
        let trusted = realip.client(from: Self.peer("127.0.0.1"))
        realip.write(trusted, "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n")
        let through = realip.member()
        #expect(through >= 0)
        let untrusted = realip.client(from: Self.peer("127.0.0.2"))
        realip.write(untrusted, "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n")
        #expect(realip.read(untrusted, 0).eof)
        #expect(realip.route.picks == 1)
        realip.closeAll()
    }

    @Test("limit_conn 2: two sessions of one address go through, the third is closed, and one more fits after a close")
    func limitConn() throws {
        let zone = ConnectionLimitZone(name: "addr", size: 1 << 20)
        let worker = try Self.worker(SessionEdge(limits: [ConnectionLimit(zone: zone, limit: 2, key: .binaryRemoteAddress)]))
        let first = worker.proxied(from: Self.peer("192.0.2.1"))
        worker.proxied(from: Self.peer("192.0.2.1"))
        #expect(zone.count([192, 0, 2, 1]) == 2)
        #expect(worker.refuses(Self.peer("192.0.2.1")))
        #expect(worker.route.picks == 2)
        worker.proxied(from: Self.peer("192.0.2.2"))
        // The session ends when both sides have closed (the member lingers after the client's EOF).
        worker.close(first.client)
        #expect(worker.read(first.member, 0).eof)
        worker.close(first.member)
        for _ in 0..<100 where zone.count([192, 0, 2, 1]) > 1 { worker.core.turn(maxWait: 2) }
        #expect(zone.count([192, 0, 2, 1]) == 1)
        worker.proxied(from: Self.peer("192.0.2.1"))
        #expect(worker.route.picks == 4)
        worker.closeAll()
    }

    @Test("return VALUE: the client gets the value and an EOF; no upstream is picked")
    func returnValue() throws {
        let worker = try Self.worker(SessionEdge(returnValue: EdgeReturn(Self.bytes("hello\n"))))
        let client = worker.client(from: Self.peer("192.0.2.1"))
        let got = worker.read(client, 0)
        #expect(got.bytes == Self.bytes("hello\n"))
        #expect(got.eof)
        #expect(worker.route.picks == 0)
        #expect(worker.core.openSessions == 0)
        worker.closeAll()
    }

    @Test("proxy_protocol on without a header in: the client socket's address and the address it connected to, as nginx-tests expect")
    func v1OutFromSocket() throws {
        let worker = try Self.worker(SessionEdge(sendsProxyProtocol: true))
        let client = worker.tcpClient()
        let member = worker.member()
        let expected = Self.bytes("PROXY TCP4 127.0.0.1 127.0.0.1 \(client.clientPort) \(client.frontPort)\r\n")
        #expect(worker.read(member, expected.count).bytes == expected)
        worker.closeAll()
    }
}
