import Balancer
import Foundation
import NIOCore
import TestSupport
import Testing

/// The data path on real loopback sockets: which backend serves whom, bytes intact, half-close, idle timeout.
@Suite("Proxy data path", .timeLimit(.minutes(2)))
struct ProxyDataPathTests {
    @Test("round robin over two backends: exact 10/10 over 20 connections")
    func roundRobinCounts() async throws {
        // Marked throwing: its only `try`s are inside #expect, which the closure's effect inference does not see.
        try await RunningBalancer.with(backends: "a", "b") { (balancer, a, b) async throws in
            #expect(try await TestClient.names(port: balancer.port, connections: 20) == ["a": 10, "b": 10])
            #expect(a.accepted == 10)
            #expect(b.accepted == 10)
        }
    }

    @Test("proxy_half_close on: several MB of random bytes both ways, client half-closes, everything arrives and EOF follows")
    func largePayloadHalfClose() async throws {
        try await RunningBalancer.with(backend: "a", listener: .test(halfClose: true)) { balancer, a in
            var generator = SystemRandomNumberGenerator()
            for size in [1, 70_000, 8 * 1024 * 1024 + 13] {
                var payload = [UInt8](repeating: 0, count: size)
                payload.withUnsafeMutableBytes { bytes in
                    var index = 0
                    while index < bytes.count {
                        var word = generator.next()
                        for _ in 0..<8 where index < bytes.count {
                            bytes[index] = UInt8(truncatingIfNeeded: word)
                            word >>= 8
                            index += 1
                        }
                    }
                }
                let received = try await TestClient.exchange(port: balancer.port, payload: payload)
                let greeting = Array("a\n".utf8)
                #expect(received.count == greeting.count + payload.count)
                #expect(Array(received.prefix(greeting.count)) == greeting)
                #expect(received.dropFirst(greeting.count).elementsEqual(payload))
            }
            // Every pair closed on both sides after the two half-closes.
            #expect(await waitUntil { a.open == 0 })
            #expect(await waitUntil { balancer.sessionsClosed })
        }
    }

    @Test("proxy_half_close on: bytes sent before the member is connected are held and delivered first")
    func earlyBytes() async throws {
        try await RunningBalancer.with(backend: "a", listener: .test(halfClose: true)) { balancer, a in
            // A payload written in one go right after connect races the upstream connect.
            let payload = Array(repeating: UInt8(ascii: "x"), count: 200_000)
            let received = try await TestClient.exchange(port: balancer.port, payload: payload, chunk: payload.count)
            #expect(received.count == 2 + payload.count)
        }
    }

    @Test("proxy_timeout closes a connection on which neither side moved data")
    func idleTimeout() async throws {
        try await RunningBalancer.with(backend: "a", listener: .test(idleTimeout: .seconds(4))) { balancer, a in
            let connection = try RawSocket(port: balancer.port)
            // The client runs on a thread of its own: its pace must not wait for the cooperative pool,
            // which other tests can keep busy for seconds on a loaded machine (at load 20 a write once
            // found the connection already closed, "I/O on closed channel").
            let (greeting, echoed, closed, closedAfter) = await offPool {
                let start = ContinuousClock.now
                let greeting = connection.blockingReceive(limit: 2, timeout: .seconds(30)).bytes
                // Activity keeps the connection open past the timeout: 20 x 250 ms, longer than the
                // timeout in total, a sixteenth of it between two messages.
                var echoed: [UInt8] = []
                for _ in 0..<20 {
                    Thread.sleep(forTimeInterval: 0.25)
                    try? connection.send("p")
                    echoed += connection.blockingReceive(limit: 1, timeout: .seconds(30)).bytes
                }
                // Then silence: the balancer closes it (the deadline only stops a hang).
                let rest = connection.blockingReceive(limit: 1, timeout: .seconds(60))
                return (greeting, echoed, rest.closed && rest.bytes.isEmpty, ContinuousClock.now - start)
            }
            #expect(greeting == Array("a\n".utf8))
            #expect(echoed == Array(repeating: UInt8(ascii: "p"), count: 20))
            #expect(closed)
            // At least 5 s of activity, then the whole timeout of silence.
            #expect(closedAfter >= .milliseconds(8900))
        }
    }

    @Test("backpressure: a client that does not read stops the member's data instead of filling the balancer")
    func backpressure() async throws {
        try await TestScene.with { scene in
            let flood = try await scene.flood(total: 256 * 1024 * 1024)
            let balancer = try await scene.balancer(backends: [StaticServer(host: "127.0.0.1", port: flood.port)])
            let connection = try await TestClient.connect(port: balancer.port)
            try await connection.executeThenClose { inbound, _ in
                // Not reading: once the socket buffers on the way are full the backend must stall.
                var last = -1
                #expect(await waitUntil(timeout: .seconds(20)) {
                    let now = flood.bytesHandedOver
                    defer { last = now }
                    try? await Task.sleep(for: .milliseconds(200))
                    return now > 0 && now == last && flood.bytesHandedOver == now
                })
                let stalledAt = flood.bytesHandedOver
                // Kernel buffers of two loopback connections plus one read and NIO's 64 KiB water mark each way.
                #expect(stalledAt < 64 * 1024 * 1024)
                // Reading resumes the flow.
                var iterator = inbound.makeAsyncIterator()
                let more = try await TestClient.read(stalledAt + 1024 * 1024, from: &iterator)
                #expect(more.count >= stalledAt + 1024 * 1024)
            }
        }
    }

    @Test("proxy_half_close off (nginx's default, opt-in here): a client's EOF delivers what it sent, then ends the session though the member still sends")
    func eofEndsTheSessionWithoutHalfClose() async throws {
        try await TestScene.with { scene in
            let total = 1 << 30
            let flood = try await scene.flood(total: total, closeWhenDone: false)
            let balancer = try await scene.balancer(
                backends: [StaticServer(host: "127.0.0.1", port: flood.port)], listener: .test(halfClose: false))
            // The member would send a gigabyte; the client's EOF ends the session long before.
            let received = try await TestClient.exchange(port: balancer.port, payload: Array("bye".utf8))
            #expect(received.count < total)
            #expect(await waitUntil { balancer.sessionsClosed })
        }
    }

    @Test("proxy_half_close off: what the client sent before its EOF reaches the member")
    func dataBeforeEOFIsDelivered() async throws {
        try await RunningBalancer.with(backend: "a", listener: .test(halfClose: false)) { balancer, a in
            let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 3 * 1024 * 1024)
            _ = try await TestClient.exchange(port: balancer.port, payload: payload)
            #expect(await waitUntil { a.received == payload.count }, "member received \(a.received) of \(payload.count)")
            #expect(await waitUntil { a.open == 0 })
        }
    }

    @Test("proxy_half_close on: client half-closes, member sends and closes: everything queued for the slow client still arrives")
    func closeAfterQueuedData() async throws {
        try await TestScene.with { scene in
            let total = 4 * 1024 * 1024
            let flood = try await scene.flood(total: total, closeWhenDone: true)
            let balancer = try await scene.balancer(
                backends: [StaticServer(host: "127.0.0.1", port: flood.port)], listener: .test(halfClose: true))
            let connection = try await TestClient.connect(port: balancer.port)
            let received = try await connection.executeThenClose { inbound, outbound in
                // The client is done sending first; then the member finishes and closes while data for
                // the client is still queued in the balancer.
                outbound.finish()
                #expect(await waitUntil { flood.bytesHandedOver >= total })
                try await Task.sleep(for: .milliseconds(200))
                var count = 0
                for try await buffer in inbound {
                    count += buffer.readableBytes
                }
                return count
            }
            #expect(received == total)
        }
    }
}
