import CProxyEngine
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import ProxyEngine

/// The worker's accept-rate decisions on an injected millisecond clock, over a real loopback
/// listener whose clients wait in the kernel's accept queue.
@Suite("Worker accept rate", .serialized, .timeLimit(.minutes(1)))
struct WorkerAcceptRateTests {
    final class Clock: Sendable {
        let now = Atomic<Int64>(0)
        func set(_ value: Int64) { self.now.store(value, ordering: .relaxed) }
    }

    final class Harness {
        var core: WorkerCore
        let listenFD: Int32
        let port: Int
        let route: TestRoute
        let clock: Clock
        var clients: [Int32] = []

        init(core: WorkerCore, listenFD: Int32, port: Int, route: TestRoute, clock: Clock) {
            self.core = core
            self.listenFD = listenFD
            self.port = port
            self.route = route
            self.clock = clock
        }

        /// Connects `count` clients; the kernel completes each handshake, so they wait in the queue.
        func connect(_ count: Int) {
            for _ in 0..<count {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = in_port_t(UInt16(self.port).bigEndian)
                address.sin_addr.s_addr = inet_addr("127.0.0.1")
                let result = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                #expect(result == 0)
                self.clients.append(fd)
            }
        }

        /// Turns the worker at `time` (ms) without waiting; returns the clients it accepted.
        func turn(at time: Int64) -> Int {
            self.clock.set(time)
            let before = self.route.picks
            self.core.turn(maxWait: 0)
            return self.route.picks - before
        }

        func close() {
            for fd in self.clients { Glibc.close(fd) }
            cpe_close(self.listenFD)
        }
    }

    static func start(rate: Int?, burst: Int, at time: Int64) throws -> Harness {
        let listenFD = WorkerHarness.listen(backlog: 64)
        let clock = Clock()
        clock.set(time)
        var core = try WorkerCore(
            index: 0, mailbox: WorkerMailbox(), shared: EngineShared(workers: 1),
            clock: { clock.now.load(ordering: .relaxed) })
        let route = TestRoute(hasMembers: false, acceptLimiter: rate.map { AcceptLimiter(rate: $0, burst: burst) })
        core.execute(.addListener(id: 1, fd: listenFD, exclusive: false, noDelay: true, route: route))
        return Harness(core: core, listenFD: listenFD, port: Int(cpe_local_port(listenFD)), route: route, clock: clock)
    }

    /// A worker whose listener has `queued` clients waiting and a rate they exceed: its first turn, at
    /// `time`, takes `first` of them and pauses the listener.
    static func paused(rate: Int, burst: Int, at time: Int64, queued: Int, first: Int) throws -> Harness {
        let harness = try Self.start(rate: rate, burst: burst, at: time)
        harness.connect(queued)
        #expect(harness.turn(at: time) == first)
        #expect(harness.core.pausedListeners == 1)
        return harness
    }

    @Test("10/s, no burst: one client per 100 ms; the listener leaves epoll while paused and the timer accepts the queued ones")
    func steadyPace() throws {
        let harness = try Self.paused(rate: 10, burst: 0, at: 1_000, queued: 5, first: 1)
        defer { harness.close() }
        #expect(harness.route.counters.total(.acceptPauses) == 1)
        #expect(harness.core.acceptResumeTimeout(-1) == 100)
        #expect(harness.core.acceptResumeTimeout(30) == 30)
        // Queued clients announce nothing; the worker waits for its own time.
        #expect(harness.turn(at: 1_099) == 0)
        #expect(harness.turn(at: 1_100) == 1)
        #expect(harness.turn(at: 1_150) == 0)
        // A late wake-up takes one, and the lost 150 ms are not made up (no burst).
        #expect(harness.turn(at: 1_350) == 1)
        #expect(harness.turn(at: 1_449) == 0)
        #expect(harness.turn(at: 1_450) == 1)
        #expect(harness.turn(at: 1_550) == 1)
        #expect(harness.route.picks == 5)
        #expect(harness.route.counters.total(.acceptPauses) == 5)
    }

    @Test("burst=3 takes 4 at once after a quiet spell, then the pace; an accept that finds the queue empty costs no admission")
    func burstAndGiveBack() throws {
        let harness = try Self.paused(rate: 10, burst: 3, at: 5_000, queued: 6, first: 4)
        defer { harness.close() }
        #expect(harness.turn(at: 5_099) == 0)
        #expect(harness.turn(at: 5_100) == 1)
        // After a quiet second the bucket is full again: the last client is taken, the accept that
        // then finds the queue empty gives its admission back, and the listener is watched again.
        #expect(harness.turn(at: 6_500) == 1)
        #expect(harness.core.pausedListeners == 0)
        harness.connect(5)
        // 1 + burst = 4 at 6.5 s in all: the one before and 3 now. Had the empty accept spent an
        // admission, only 2 would be taken now.
        #expect(harness.turn(at: 6_500) == 3)
        #expect(harness.core.pausedListeners == 1)
        #expect(harness.turn(at: 6_600) == 1)
        #expect(harness.route.picks == 10)
    }

    @Test("multi_accept: on, one wake-up accepts every queued client; off, one, and the level-triggered listener brings the next")
    func multiAccept() throws {
        let harness = try Self.start(rate: nil, burst: 0, at: 0)
        defer { harness.close() }
        harness.connect(3)
        #expect(harness.turn(at: 0) == 3)
        harness.core.shared.multiAccept = false
        harness.connect(3)
        for _ in 0..<3 {
            #expect(harness.turn(at: 0) == 1)
        }
        #expect(harness.turn(at: 0) == 0)
    }

    @Test("the listener removed while paused: nothing accepts any more and nothing stays paused")
    func removedWhilePaused() async throws {
        let harness = try Self.paused(rate: 10, burst: 0, at: 0, queued: 3, first: 1)
        defer { harness.close() }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            harness.core.execute(.removeListener(id: 1, done: done))
        }
        #expect(harness.core.pausedListeners == 0)
        #expect(harness.turn(at: 1_000) == 0)
    }
}
