import CProxyEngine
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import ProxyEngine

/// One worker over real sockets: a socketpair as the client, a loopback listener as the member.
@Suite("Worker over sockets", .timeLimit(.minutes(1)))
struct WorkerSocketpairTests {
    struct Harness {
        var core: WorkerCore
        let client: Int32
        let member: Int32
        let route: TestRoute
    }

    private static func listenLoopback() -> (fd: Int32, port: Int) {
        var address = EngineAddress(numericHost: "127.0.0.1", port: 0)!
        let fd = cpe_listen(&address.storage, address.length, 16, 0, 1)
        precondition(fd >= 0)
        return (fd, Int(cpe_local_port(fd)))
    }

    /// A blocking accept with a deadline, turning the worker meanwhile.
    static func start(halfClose: Bool, idle: Int64 = 0, log: SessionLog? = nil) throws -> Harness {
        let (listenFD, port) = Self.listenLoopback()
        defer { cpe_close(listenFD) }
        let route = TestRoute(
            settings: RouteSettings(connectTimeout: 1_000, idleTimeout: idle, halfClose: halfClose), port: port)
        route.sessionLog = log
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &pair) == 0)
        var core = try WorkerCore(index: 0, mailbox: WorkerMailbox(), shared: EngineShared(workers: 1))
        #expect(core.shared.admit())
        core.adopt(clientFD: pair[0], route: route)
        var member: Int32 = -1
        for _ in 0..<200 where member < 0 {
            var storage = sockaddr_storage()
            var length = socklen_t(0)
            member = cpe_accept(listenFD, &storage, &length)
            core.turn(maxWait: 5)
        }
        #expect(member >= 0)
        for _ in 0..<20 where !route.events.contains("connected") {
            core.turn(maxWait: 5)
        }
        #expect(route.events == ["pick", "connected"])
        return Harness(core: core, client: pair[1], member: member, route: route)
    }

    /// Reads what is there, turning the worker until `count` bytes came or EOF.
    private static func read(_ fd: Int32, _ count: Int, core: inout WorkerCore) -> (bytes: [UInt8], eof: Bool) {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<2_000 {
            core.turn(maxWait: 1)
            let n = buffer.withUnsafeMutableBytes { cpe_read(fd, $0.baseAddress, UInt(min(65536, count - out.count + 1))) }
            if n > 0 {
                out += buffer[0..<n]
            } else if n == 0 {
                return (out, true)
            }
            if out.count >= count && count > 0 { return (out, false) }
        }
        return (out, false)
    }

    private static func write(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { cpe_send(fd, $0.baseAddress, UInt(bytes.count)) }
    }

    @Test("bytes pass both ways; proxy_half_close on passes a FIN through and closes after both; the slot is released")
    func halfCloseOn() throws {
        var h = try Self.start(halfClose: true)
        Self.write(h.client, "hello")
        #expect(Self.read(h.member, 5, core: &h.core).bytes == Array("hello".utf8))
        Self.write(h.member, "world")
        #expect(Self.read(h.client, 5, core: &h.core).bytes == Array("world".utf8))
        _ = shutdown(h.client, Int32(SHUT_WR))
        #expect(Self.read(h.member, 0, core: &h.core).eof)
        Self.write(h.member, "late")
        #expect(Self.read(h.client, 4, core: &h.core).bytes == Array("late".utf8))
        _ = shutdown(h.member, Int32(SHUT_WR))
        #expect(Self.read(h.client, 0, core: &h.core).eof)
        for _ in 0..<50 where h.core.openSessions > 0 { h.core.turn(maxWait: 2) }
        #expect(h.core.openSessions == 0)
        #expect(h.route.events == ["pick", "connected", "closed"])
        #expect(h.route.counters.total(.bytesIn) == 5)
        #expect(h.route.counters.total(.bytesOut) == 9)
        cpe_close(h.client)
        cpe_close(h.member)
    }

    @Test("proxy_half_close off: the client's EOF delivers its bytes, the member gets a FIN, and the session ends")
    func halfCloseOff() throws {
        var h = try Self.start(halfClose: false)
        Self.write(h.client, "bye")
        _ = shutdown(h.client, Int32(SHUT_WR))
        let got = Self.read(h.member, 10, core: &h.core)
        #expect(got.bytes == Array("bye".utf8))
        #expect(got.eof)
        #expect(Self.read(h.client, 0, core: &h.core).eof)
        cpe_close(h.member)
        for _ in 0..<50 where h.core.openSessions > 0 { h.core.turn(maxWait: 2) }
        #expect(h.core.openSessions == 0)
        cpe_close(h.client)
    }

    @Test("proxy_half_close off: a member that acknowledged all it was sent is closed at once on the client's EOF")
    func memberClosedAtOnce() throws {
        var h = try Self.start(halfClose: false)
        Self.write(h.client, "bye")
        #expect(Self.read(h.member, 3, core: &h.core).bytes == Array("bye".utf8))
        // Its kernel's ACK may be handled a moment later on a loaded machine (bounded wait).
        let upstream = h.core.sessions[0].upstream.fd
        for _ in 0..<2_000 where cpe_unacknowledged(upstream) != 0 { h.core.turn(maxWait: 1) }
        #expect(cpe_unacknowledged(upstream) == 0)
        _ = shutdown(h.client, Int32(SHUT_WR))
        // The session ends while the member is still open: no lingering read of its EOF.
        for _ in 0..<50 where h.core.openSessions > 0 { h.core.turn(maxWait: 2) }
        #expect(h.core.openSessions == 0)
        #expect(Self.read(h.member, 0, core: &h.core).eof)
        #expect(Self.read(h.client, 0, core: &h.core).eof)
        #expect(h.route.events == ["pick", "connected", "closed"])
        cpe_close(h.member)
        cpe_close(h.client)
    }

    @Test("proxy_half_close off: 1 MiB and the client's EOF reach a member that reads slowly, whole, then its EOF")
    func slowMemberGetsEverything() throws {
        var h = try Self.start(halfClose: false)
        let block = [UInt8](repeating: 5, count: 1 << 20)
        var sent = 0
        var received = 0
        var eof = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<50_000 where !eof {
            if sent < block.count {
                let n = block.withUnsafeBytes { cpe_send(h.client, $0.baseAddress! + sent, UInt(block.count - sent)) }
                if n > 0 { sent += n }
                if sent == block.count { _ = shutdown(h.client, Int32(SHUT_WR)) }
            }
            h.core.turn(maxWait: 1)
            let n = buffer.withUnsafeMutableBytes { cpe_read(h.member, $0.baseAddress, 4096) }
            if n > 0 {
                received += n
            } else if n == 0 {
                eof = true
            }
        }
        #expect(received == block.count)
        #expect(eof)
        // Closed at once, or (bytes still unacknowledged at the EOF) lingering until this close.
        cpe_close(h.member)
        for _ in 0..<50 where h.core.openSessions > 0 { h.core.turn(maxWait: 2) }
        #expect(h.core.openSessions == 0)
        cpe_close(h.client)
    }

    @Test("backpressure: a client that does not read gets at most one 64 KiB chunk held for it; reading drains it")
    func backpressure() throws {
        var h = try Self.start(halfClose: true)
        let block = [UInt8](repeating: 7, count: 65536)
        var sent = 0
        for _ in 0..<200 {
            let n = block.withUnsafeBytes { cpe_send(h.member, $0.baseAddress, 65536) }
            if n > 0 { sent += n }
            h.core.turn(maxWait: 1)
        }
        #expect(h.core.buffersInUse <= 1)
        let got = Self.read(h.client, sent, core: &h.core)
        #expect(got.bytes.count == sent)
        for _ in 0..<20 { h.core.turn(maxWait: 1) }
        #expect(h.core.buffersInUse == 0)
        cpe_close(h.client)
        cpe_close(h.member)
        for _ in 0..<50 where h.core.openSessions > 0 { h.core.turn(maxWait: 2) }
        #expect(h.core.openSessions == 0)
    }

    @Test("proxy_timeout closes an idle session through epoll_wait's timeout")
    func idleTimeout() throws {
        var h = try Self.start(halfClose: true, idle: 100)
        #expect(Self.read(h.client, 0, core: &h.core).eof)
        #expect(h.core.openSessions == 0)
        cpe_close(h.client)
        cpe_close(h.member)
    }
}
