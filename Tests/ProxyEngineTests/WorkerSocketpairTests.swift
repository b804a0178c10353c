import CProxyEngine
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import ProxyEngine

/// One worker over real sockets: a socketpair as the client, a loopback listener as the member.
@Suite("Worker over sockets", .timeLimit(.minutes(1)))
struct WorkerSocketpairTests {
    /// A worker with one session through: the test's ends of its socketpair client and of its member.
    static func start(halfClose: Bool, idle: Int64 = 0, log: SessionLog? = nil) throws -> (
        worker: WorkerHarness, client: Int32, member: Int32
    ) {
        let worker = try WorkerHarness { port in
            let route = TestRoute(settings: RouteSettings(connectTimeout: 1_000, idleTimeout: idle, halfClose: halfClose), port: port)
            route.sessionLog = log
            return route
        }
        let client = worker.client()
        let member = worker.member()
        #expect(member >= 0)
        for _ in 0..<20 where !worker.route.events.contains("connected") {
            worker.core.turn(maxWait: 5)
        }
        #expect(worker.route.events == ["pick", "connected"])
        return (worker, client, member)
    }

    @Test("bytes pass both ways; proxy_half_close on passes a FIN through and closes after both; the slot is released")
    func halfCloseOn() throws {
        let (worker, client, member) = try Self.start(halfClose: true)
        worker.write(client, "hello")
        #expect(worker.read(member, 5).bytes == Array("hello".utf8))
        worker.write(member, "world")
        #expect(worker.read(client, 5).bytes == Array("world".utf8))
        _ = shutdown(client, Int32(SHUT_WR))
        #expect(worker.read(member, 0).eof)
        worker.write(member, "late")
        #expect(worker.read(client, 4).bytes == Array("late".utf8))
        _ = shutdown(member, Int32(SHUT_WR))
        #expect(worker.read(client, 0).eof)
        #expect(worker.sessionsEnded())
        #expect(worker.route.events == ["pick", "connected", "closed"])
        #expect(worker.route.counters.total(.bytesIn) == 5)
        #expect(worker.route.counters.total(.bytesOut) == 9)
        worker.closeAll()
    }

    @Test("proxy_half_close off: the client's EOF delivers its bytes, the member gets a FIN, and the session ends")
    func halfCloseOff() throws {
        let (worker, client, member) = try Self.start(halfClose: false)
        worker.write(client, "bye")
        _ = shutdown(client, Int32(SHUT_WR))
        let got = worker.read(member, 10)
        #expect(got.bytes == Array("bye".utf8))
        #expect(got.eof)
        #expect(worker.read(client, 0).eof)
        worker.close(member)
        #expect(worker.sessionsEnded())
        worker.closeAll()
    }

    @Test("proxy_half_close off: a member that acknowledged all it was sent is closed at once on the client's EOF")
    func memberClosedAtOnce() throws {
        let (worker, client, member) = try Self.start(halfClose: false)
        worker.write(client, "bye")
        #expect(worker.read(member, 3).bytes == Array("bye".utf8))
        // Its kernel's ACK may be handled a moment later on a loaded machine (bounded wait).
        let upstream = worker.core.sessions[0].upstream.fd
        for _ in 0..<2_000 where cpe_unacknowledged(upstream) != 0 { worker.core.turn(maxWait: 1) }
        #expect(cpe_unacknowledged(upstream) == 0)
        _ = shutdown(client, Int32(SHUT_WR))
        // The session ends while the member is still open: no lingering read of its EOF.
        #expect(worker.sessionsEnded())
        #expect(worker.read(member, 0).eof)
        #expect(worker.read(client, 0).eof)
        #expect(worker.route.events == ["pick", "connected", "closed"])
        worker.closeAll()
    }

    @Test("proxy_half_close off: 1 MiB and the client's EOF reach a member that reads slowly, whole, then its EOF")
    func slowMemberGetsEverything() throws {
        let (worker, client, member) = try Self.start(halfClose: false)
        let block = [UInt8](repeating: 5, count: 1 << 20)
        var sent = 0
        var received = 0
        var eof = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<50_000 where !eof {
            if sent < block.count {
                let n = block.withUnsafeBytes { cpe_send(client, $0.baseAddress! + sent, UInt(block.count - sent)) }
                if n > 0 { sent += n }
                if sent == block.count { _ = shutdown(client, Int32(SHUT_WR)) }
            }
            worker.core.turn(maxWait: 1)
            let n = buffer.withUnsafeMutableBytes { cpe_read(member, $0.baseAddress, 4096) }
            if n > 0 {
                received += n
            } else if n == 0 {
                eof = true
            }
        }
        #expect(received == block.count)
        #expect(eof)
        // Closed at once, or (bytes still unacknowledged at the EOF) lingering until this close.
        worker.close(member)
        #expect(worker.sessionsEnded())
        worker.closeAll()
    }

    @Test("backpressure: a client that does not read gets at most one 64 KiB chunk held for it; reading drains it")
    func backpressure() throws {
        let (worker, client, member) = try Self.start(halfClose: true)
        let block = [UInt8](repeating: 7, count: 65536)
        var sent = 0
        for _ in 0..<200 {
            let n = block.withUnsafeBytes { cpe_send(member, $0.baseAddress, 65536) }
            if n > 0 { sent += n }
            worker.core.turn(maxWait: 1)
        }
        #expect(worker.core.buffersInUse <= 1)
        let got = worker.read(client, sent)
        #expect(got.bytes.count == sent)
        for _ in 0..<20 { worker.core.turn(maxWait: 1) }
        #expect(worker.core.buffersInUse == 0)
        worker.close(client, member)
        #expect(worker.sessionsEnded())
        worker.closeAll()
    }

    @Test("proxy_timeout closes an idle session through epoll_wait's timeout")
    func idleTimeout() throws {
        let (worker, client, _) = try Self.start(halfClose: true, idle: 100)
        #expect(worker.read(client, 0).eof)
        #expect(worker.core.openSessions == 0)
        worker.closeAll()
    }
}
