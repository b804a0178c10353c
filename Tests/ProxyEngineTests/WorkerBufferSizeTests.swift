import CProxyEngine
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import ProxyEngine

/// `proxy_buffer_size` over real sockets: what waits for a side that does not read never exceeds it.
@Suite("Worker buffer size", .timeLimit(.minutes(1)))
struct WorkerBufferSizeTests {
    @Test("proxy_buffer_size 4096: at most 4 KiB wait for a client that does not read; reading drains all of it")
    func bufferSize() throws {
        let worker = try WorkerHarness { port in
            TestRoute(settings: RouteSettings(connectTimeout: 1_000, idleTimeout: 0, halfClose: false, bufferSize: 4096), port: port)
        }
        let client = worker.client()
        let member = worker.member()
        #expect(member >= 0)
        let block = [UInt8](repeating: 7, count: 16_384)
        var sent = 0
        var most = 0
        for _ in 0..<200 {
            let n = block.withUnsafeBytes { cpe_send(member, $0.baseAddress, UInt($0.count)) }
            if n > 0 { sent += n }
            worker.core.turn(maxWait: 1)
            most = max(most, worker.core.sessions[Int32(0)].client.pending)
        }
        // The client's socket is full long before 200 blocks: the worker then holds what it read.
        #expect(most > 0)
        #expect(most <= 4096)
        #expect(worker.read(client, sent).bytes.count == sent)
        worker.closeAll()
    }
}
