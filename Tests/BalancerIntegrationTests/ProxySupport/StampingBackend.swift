import Foundation
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A backend that stamps each connection as it accepts it (monotonic ns) on a thread of its own
/// doing blocking accepts, sends "s\n" and holds the socket. The balancer makes one upstream
/// connection per client it accepted, right after accepting it, so these stamps show the pace at
/// which the balancer admitted its clients.
final class StampingBackend: Sendable {
    let port: Int
    private let listenFD: Int32
    private let stamps = Mutex<[Int64]>([])
    private let accepted = Mutex<[Int32]>([])
    private let finished = Atomic<Bool>(false)

    init(backlog: Int32 = 4096) throws {
        (self.listenFD, self.port) = try bindLoopbackSocket(reuseAddress: true, backlog: backlog)
        let thread = Thread { [self] in self.acceptLoop() }
        thread.name = "stamping-backend"
        thread.start()
    }

    private func acceptLoop() {
        let greeting: [UInt8] = Array("s\n".utf8)
        while true {
            let fd = accept(self.listenFD, nil, nil)
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                break
            }
            self.stamps.withLock { $0.append(Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)) }
            _ = greeting.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            self.accepted.withLock { $0.append(fd) }
        }
        self.finished.store(true, ordering: .releasing)
    }

    /// Accept times so far, in order.
    var acceptTimes: [Int64] { self.stamps.withLock { $0 } }

    /// Stops accepting (shutdown wakes the blocked accept) and closes every socket.
    func stop() {
        shutdown(self.listenFD, Int32(SHUT_RDWR))
        let deadline = ContinuousClock.now + .seconds(5)
        while !self.finished.load(ordering: .acquiring) && ContinuousClock.now < deadline {
            usleep(1_000)
        }
        close(self.listenFD)
        for fd in self.accepted.withLock({ $0 }) { close(fd) }
    }

    /// The most stamps in any half-open window [t, t + window).
    static func mostInWindow(_ times: [Int64], window: Int64) -> Int {
        var start = 0
        var most = 0
        for end in times.indices {
            while times[end] - times[start] >= window { start += 1 }
            most = max(most, end - start + 1)
        }
        return most
    }
}

/// `count` clients connecting at once over raw non-blocking sockets, each waiting for the first line
/// its backend sends; run on a thread of its own (it blocks, it does not suspend).
enum StormClients {
    struct Outcome: Sendable {
        /// Clients that read the backend's greeting through the balancer.
        var served = 0
        /// Clients whose connect failed, or whose connection closed or failed before a greeting.
        var failed = 0
        /// Clients still waiting at the deadline.
        var waiting = 0
        var sockets: [Int32] = []
    }

    static func run(count: Int, port: Int, deadline: Duration) async -> Outcome {
        await withCheckedContinuation { (done: CheckedContinuation<Outcome, Never>) in
            let thread = Thread { done.resume(returning: Self.storm(count: count, port: port, deadline: deadline)) }
            thread.name = "storm-clients"
            thread.start()
        }
    }

    private static func storm(count: Int, port: Int, deadline: Duration) -> Outcome {
        var outcome = Outcome()
        let end = ContinuousClock.now + deadline
        var waiting: [Int32] = []
        for _ in 0..<count {
            // Non-blocking connects, so all of them are under way at once.
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else {
                outcome.failed += 1
                continue
            }
            outcome.sockets.append(fd)
            if connectLoopback(fd, port: port) != 0 && errno != EINPROGRESS {
                outcome.failed += 1
                continue
            }
            waiting.append(fd)
        }
        // Then each greeting is read in turn with a blocking read: the accept queue is first in,
        // first out, so the thread sleeps until the next client is served and costs no CPU the
        // balancer and the other tests need (polling 3,000 sockets would).
        var buffer = [UInt8](repeating: 0, count: 16)
        for (index, fd) in waiting.enumerated() {
            let left = end - ContinuousClock.now
            guard left > .zero else {
                outcome.waiting = waiting.count - index
                break
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            var limit = timeval(tv_sec: Int(left.components.seconds) + 1, tv_usec: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            var got = read(fd, &buffer, buffer.count)
            while got < 0 && errno == EINTR { got = read(fd, &buffer, buffer.count) }
            if got > 0 && buffer[0] == UInt8(ascii: "s") {
                outcome.served += 1
            } else if got < 0 && errno == EAGAIN {
                outcome.waiting += 1
            } else {
                outcome.failed += 1
            }
        }
        return outcome
    }
}
