import CProxyEngine
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import ProxyEngine

/// `proxy_download_rate` and `proxy_upload_rate` over real sockets: the worker reads a limited side no
/// faster than its rate, and waits on the session's timer, not on the socket.
@Suite("Worker read rates", .timeLimit(.minutes(1)))
struct WorkerRateTests {
    /// One session through a worker whose route reads the member at `download` and the client at
    /// `upload` bytes per second.
    private static func start(upload: Int = 0, download: Int = 0) throws -> (worker: WorkerHarness, client: Int32, member: Int32) {
        let worker = try WorkerHarness { port in
            TestRoute(
                settings: RouteSettings(
                    connectTimeout: 1_000, idleTimeout: 0, halfClose: false, uploadRate: upload, downloadRate: download),
                port: port)
        }
        let client = worker.client()
        let member = worker.member()
        #expect(member >= 0)
        for _ in 0..<20 where !worker.route.events.contains("connected") {
            worker.core.turn(maxWait: 5)
        }
        return (worker, client, member)
    }

    /// What `fd` has now, turning the worker `turns` times first.
    private static func available(_ worker: WorkerHarness, _ fd: Int32, turns: Int) -> Int {
        for _ in 0..<turns { worker.core.turn(maxWait: 1) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var total = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { cpe_read(fd, $0.baseAddress, UInt($0.count)) }
            guard n > 0 else { return total }
            total += n
        }
    }

    @Test("download 100 bytes/s: 250 bytes from the member reach the client as 100, then 100 a second later, then 50")
    func download() throws {
        let (worker, client, member) = try Self.start(download: 100)
        let started = ContinuousClock.now
        worker.write(member, [UInt8](repeating: 7, count: 250))
        // The first second's allowance at once; nothing more while it is paid for.
        #expect(Self.available(worker, client, turns: 50) == 100)
        #expect(Self.available(worker, client, turns: 50) == 0)
        #expect(worker.read(client, 150).bytes.count == 150)
        // 100 at once, 100 after 1 s, 50 after 2 s: a lower bound only (a slow machine is later).
        #expect(ContinuousClock.now - started >= .milliseconds(1_900))
        worker.closeAll()
    }

    @Test("upload 1 byte/s: one byte of the client's reaches the member, the rest waits in the client's socket")
    func uploadOneByte() throws {
        let (worker, client, member) = try Self.start(upload: 1)
        worker.write(client, "hello")
        #expect(Self.available(worker, member, turns: 50) == 1)
        #expect(Self.available(worker, member, turns: 50) == 0)
        // The other direction is not limited.
        worker.write(member, "world")
        #expect(worker.read(client, 5).bytes == Array("world".utf8))
        worker.closeAll()
    }
}
