import CProxyEngine
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
    struct Scene {
        var core: WorkerCore
        let route: TestRoute
        let listener: Int32
        let port: Int

        init(_ edge: SessionEdge, log: SessionLog? = nil) throws {
            self.listener = Self.listen()
            self.port = Int(cpe_local_port(self.listener))
            self.route = TestRoute(
                settings: RouteSettings(connectTimeout: 1_000, idleTimeout: 0, halfClose: false, needsClientAddress: log != nil),
                port: self.port, firstTryOnly: false, edge: edge)
            self.route.sessionLog = log
            self.core = try WorkerCore(index: 0, mailbox: WorkerMailbox(), shared: EngineShared(workers: 1))
        }

        /// A socketpair client adopted as if accepted from `peer`; returns the test's end.
        mutating func client(from peer: ProxyProtocolEndpoint?) -> Int32 {
            var pair: [Int32] = [0, 0]
            precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &pair) == 0)
            precondition(self.core.shared.admit())
            self.core.adopt(clientFD: pair[0], route: self.route, clientEndpoint: peer)
            return pair[1]
        }

        static func listen() -> Int32 {
            var address = EngineAddress(numericHost: "127.0.0.1", port: 0)!
            let fd = cpe_listen(&address.storage, address.length, 16, 0, 1)
            precondition(fd >= 0)
            return fd
        }

        /// A real TCP client from 127.0.0.1 through a second loopback listener (standing for the
        /// balancer's `listen`), its accepted end adopted as the balancer's accept does it. Returns the
        /// test's end and the two ports the outgoing PROXY line names when no realip applies.
        mutating func tcpClient() -> (fd: Int32, clientPort: Int, frontPort: Int) {
            let front = Self.listen()
            defer { cpe_close(front) }
            let frontPort = Int(cpe_local_port(front))
            let client = cpe_socket(AF_INET)
            var target = EngineAddress(numericHost: "127.0.0.1", port: frontPort)!
            _ = cpe_connect(client, &target.storage, target.length)
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            var accepted: Int32 = -1
            for _ in 0..<200 where accepted < 0 {
                accepted = cpe_accept(front, &storage, &length)
                if accepted < 0 { usleep(1_000) }
            }
            precondition(accepted >= 0 && self.core.shared.admit())
            self.core.adopt(
                clientFD: accepted, route: self.route, clientAddress: "127.0.0.1",
                clientEndpoint: ProxyProtocolEndpoint(socketAddress: storage), client: RecordAddress(storage))
            return (client, Int(cpe_local_port(client)), frontPort)
        }

        /// The member's end of the next upstream connection, turning the worker meanwhile; -1 if none came.
        mutating func member() -> Int32 {
            for _ in 0..<400 {
                var storage = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let fd = cpe_accept(self.listener, &storage, &length)
                if fd >= 0 { return fd }
                self.core.turn(maxWait: 2)
            }
            return -1
        }

        /// Reads until `count` bytes or EOF, turning the worker.
        mutating func read(_ fd: Int32, _ count: Int) -> (bytes: [UInt8], eof: Bool) {
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            for _ in 0..<2_000 {
                self.core.turn(maxWait: 1)
                let n = buffer.withUnsafeMutableBytes { cpe_read(fd, $0.baseAddress, UInt(4096)) }
                if n > 0 { out += buffer[0..<n] } else if n == 0 { return (out, true) }
                if count > 0 && out.count >= count { return (out, false) }
            }
            return (out, false)
        }

        func close(_ fds: Int32...) { for fd in fds { cpe_close(fd) } }
    }

    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { cpe_send(fd, $0.baseAddress, UInt(bytes.count)) }
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func peer(_ text: String, _ port: UInt16 = 40000) -> ProxyProtocolEndpoint {
        ProxyProtocolEndpoint(address: IPAddress(text: text)!, port: port)
    }

    static let trusted = [CIDR(text: "127.0.0.1")!]

    @Test("PROXY v1 in, split over two writes, from a trusted peer: v1 out with the header's client and this side's address, then the client's bytes")
    func v1InV1Out() throws {
        var scene = try Scene(SessionEdge(readsProxyProtocol: true, realIPFrom: Self.trusted, sendsProxyProtocol: true))
        let client = scene.tcpClient()
        Self.write(client.fd, Self.bytes("PROXY TCP4 192.0.2.1 192.0"))
        for _ in 0..<5 { scene.core.turn(maxWait: 1) }
        #expect(scene.route.picks == 0)
        Self.write(client.fd, Self.bytes(".2.2 1234 5678\r\nhello"))
        let member = scene.member()
        #expect(member >= 0)
        let expected = Self.bytes("PROXY TCP4 192.0.2.1 127.0.0.1 1234 \(client.frontPort)\r\nhello")
        #expect(scene.read(member, expected.count).bytes == expected)
        scene.close(client.fd, member, scene.listener)
    }

    @Test("PROXY v2 in (TCP over IPv6, with a TLV) from a trusted peer: v1 out as TCP6, this side's IPv4 address mapped")
    func v2InV1Out() throws {
        var scene = try Scene(SessionEdge(readsProxyProtocol: true, realIPFrom: Self.trusted, sendsProxyProtocol: true))
        let client = scene.tcpClient()
        let source: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
        let destination: [UInt8] = [UInt8](repeating: 0, count: 15) + [2]
        let block = source + destination + [0x04, 0xD2, 0x01, 0xBB] + [0x04, 0x00, 0x01, 0x00]
        let header = ProxyProtocolTests.signature + [0x21, 0x21, 0x00, UInt8(block.count)] + block
        Self.write(client.fd, header + Self.bytes("data"))
        let member = scene.member()
        let expected = Self.bytes("PROXY TCP6 2001:db8::1 ::ffff:127.0.0.1 1234 \(client.frontPort)\r\ndata")
        #expect(scene.read(member, expected.count).bytes == expected)
        scene.close(client.fd, member, scene.listener)
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
        var scene = try Scene(
            SessionEdge(
                readsProxyProtocol: true, realIPFrom: trusted ? Self.trusted : [CIDR(text: "127.0.0.2")!], access: onlyTheClient,
                limits: [ConnectionLimit(zone: zone, limit: 1, key: .remoteAddress)], sendsProxyProtocol: true),
            log: log)
        let tcp = scene.tcpClient()
        Self.write(tcp.fd, Self.bytes("PROXY TCP4 192.0.2.1 192.0.2.2 1234 5678\r\nhi"))
        let member = scene.member()
        #expect(member >= 0)
        // Untrusted: nginx-tests' stream_proxy_protocol.t line, the connection's own addresses.
        let clientPort = trusted ? 1234 : tcp.clientPort
        let expected = Self.bytes("PROXY TCP4 \(client) 127.0.0.1 \(clientPort) \(tcp.frontPort)\r\nhi")
        #expect(scene.read(member, expected.count).bytes == expected)
        #expect(scene.route.pickedFor == client)
        #expect(zone.count(Self.bytes(client)) == 1)
        scene.close(tcp.fd, member)
        let record = try #require(Self.finished(&scene, log))
        let peer = RecordAddress(Self.peer("127.0.0.1", UInt16(tcp.clientPort)))
        #expect(record.client == RecordAddress(Self.peer(client, UInt16(clientPort))))
        #expect(record.realipPeer == (trusted ? peer : RecordAddress()))
        #expect(record.proxyProtocol == RecordAddress(Self.peer("192.0.2.1", 1234)))
        #expect(zone.count(Self.bytes(client)) == 0)
        scene.close(scene.listener)
    }

    @Test("proxy_protocol on for a client that is no IP connection (a unix socket): the spec's UNKNOWN line")
    func unknownOut() throws {
        var scene = try Scene(SessionEdge(sendsProxyProtocol: true))
        let client = scene.client(from: nil)
        let member = scene.member()
        let expected = Self.bytes("PROXY UNKNOWN\r\n")
        #expect(scene.read(member, expected.count).bytes == expected)
        scene.close(client, member, scene.listener)
    }

    /// The one record the session left once both sides closed, turning the worker.
    static func finished(_ scene: inout Scene, _ log: SessionLog) -> SessionRecord? {
        for _ in 0..<200 where scene.core.openSessions > 0 { scene.core.turn(maxWait: 2) }
        var records: [SessionRecord] = []
        log.drain { records.append(copy $0) }
        return records.count == 1 ? records[0] : nil
    }

    @Test("a broken header, an EOF inside one and no header before proxy_protocol_timeout each close the client: 400, no upstream")
    func badHeaders() throws {
        var scene = try Scene(SessionEdge(readsProxyProtocol: true, proxyProtocolTimeout: 50))
        let errors = SessionErrorLog(workers: 1, level: .info)
        scene.route.errorLog = errors
        let broken = scene.client(from: nil)
        Self.write(broken, Self.bytes("GET / HTTP/1.0\r\n\r\n"))
        #expect(scene.read(broken, 0).eof)
        let cut = scene.client(from: nil)
        Self.write(cut, Self.bytes("PROXY TCP4 192.0.2.1"))
        _ = shutdown(cut, Int32(SHUT_WR))
        #expect(scene.read(cut, 0).eof)
        let silent = scene.client(from: nil)
        #expect(scene.read(silent, 0).eof)
        #expect(scene.route.picks == 0)
        #expect(scene.core.openSessions == 0)
        // nginx's `broken header` (error) twice, then `client timed out` (info, ETIMEDOUT).
        var reported: [String] = []
        errors.drain { event in
            if event.kind != .clientConnected { reported.append("\(event.kind) \(event.level) \(event.error)") }
        }
        #expect(reported == ["badProxyHeader error 0", "badProxyHeader error 0", "badProxyHeader info \(ETIMEDOUT)"])
        scene.close(broken, cut, silent, scene.listener)
    }

    @Test("allow/deny on the client's address; with set_real_ip_from the trusted peer's PROXY source is checked instead")
    func access() throws {
        let rules = AccessList([
            AccessList.Rule(allows: true, block: CIDR(text: "192.0.2.0/24")),
            AccessList.Rule(allows: false, block: nil),
        ])
        var scene = try Scene(SessionEdge(access: rules))
        let denied = scene.client(from: Self.peer("198.51.100.1"))
        #expect(scene.read(denied, 0).eof)
        #expect(scene.route.picks == 0)
        let allowed = scene.client(from: Self.peer("192.0.2.9"))
        let member = scene.member()
        #expect(member >= 0)
        #expect(scene.route.picks == 1)
        scene.close(denied, allowed, member, scene.listener)

        var realip = try Scene(SessionEdge(readsProxyProtocol: true, realIPFrom: [CIDR(text: "127.0.0.1")!], access: rules))
        let trusted = realip.client(from: Self.peer("127.0.0.1"))
        Self.write(trusted, Self.bytes("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n"))
        let through = realip.member()
        #expect(through >= 0)
        let untrusted = realip.client(from: Self.peer("127.0.0.2"))
        Self.write(untrusted, Self.bytes("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n"))
        #expect(realip.read(untrusted, 0).eof)
        #expect(realip.route.picks == 1)
        realip.close(trusted, through, untrusted, realip.listener)
    }

    @Test("limit_conn 2: two sessions of one address go through, the third is closed, and one more fits after a close")
    func limitConn() throws {
        let zone = ConnectionLimitZone(name: "addr", size: 1 << 20)
        var scene = try Scene(SessionEdge(limits: [ConnectionLimit(zone: zone, limit: 2, key: .binaryRemoteAddress)]))
        let first = scene.client(from: Self.peer("192.0.2.1"))
        let firstMember = scene.member()
        let second = scene.client(from: Self.peer("192.0.2.1"))
        let secondMember = scene.member()
        #expect(firstMember >= 0 && secondMember >= 0)
        #expect(zone.count([192, 0, 2, 1]) == 2)
        let third = scene.client(from: Self.peer("192.0.2.1"))
        #expect(scene.read(third, 0).eof)
        #expect(scene.route.picks == 2)
        let other = scene.client(from: Self.peer("192.0.2.2"))
        let otherMember = scene.member()
        #expect(otherMember >= 0)
        // The session ends when both sides have closed (the member lingers after the client's EOF).
        cpe_close(first)
        #expect(scene.read(firstMember, 0).eof)
        cpe_close(firstMember)
        for _ in 0..<100 where zone.count([192, 0, 2, 1]) > 1 { scene.core.turn(maxWait: 2) }
        #expect(zone.count([192, 0, 2, 1]) == 1)
        let fourth = scene.client(from: Self.peer("192.0.2.1"))
        let fourthMember = scene.member()
        #expect(fourthMember >= 0)
        #expect(scene.route.picks == 4)
        scene.close(second, secondMember, third, other, otherMember, fourth, fourthMember, scene.listener)
    }

    @Test("return VALUE: the client gets the value and an EOF; no upstream is picked")
    func returnValue() throws {
        var scene = try Scene(SessionEdge(returnValue: EdgeReturn(Self.bytes("hello\n"))))
        let client = scene.client(from: Self.peer("192.0.2.1"))
        let got = scene.read(client, 0)
        #expect(got.bytes == Self.bytes("hello\n"))
        #expect(got.eof)
        #expect(scene.route.picks == 0)
        #expect(scene.core.openSessions == 0)
        scene.close(client, scene.listener)
    }

    @Test("proxy_protocol on without a header in: the client socket's address and the address it connected to, as nginx-tests expect")
    func v1OutFromSocket() throws {
        var scene = try Scene(SessionEdge(sendsProxyProtocol: true))
        let client = scene.tcpClient()
        let member = scene.member()
        let expected = Self.bytes("PROXY TCP4 127.0.0.1 127.0.0.1 \(client.clientPort) \(client.frontPort)\r\n")
        #expect(scene.read(member, expected.count).bytes == expected)
        scene.close(client.fd, member, scene.listener)
    }
}
