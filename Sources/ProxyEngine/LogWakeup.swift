import CProxyEngine
import Synchronization

/// How the workers wake the log writer without a system call per record: the writer announces
/// that it is going to sleep (`sleeping`), checks its queues once more, then waits on the eventfd;
/// a worker that has queued something signals the eventfd only when it sees the announcement.
///
/// No wake-up is lost: the worker's queue store and its read of `sleeping` are ordered by a
/// sequentially consistent fence, as are the writer's store of `sleeping` and its re-check of the
/// queues, so at least one of them sees the other's write (the classic Dekker pairing).
public final class LogWakeup: Sendable {
    /// Non-blocking, close-on-exec; read by the writer only.
    public let eventFD: Int32
    private let sleeping = Atomic<Bool>(false)

    public init() throws(EngineError) {
        let fd = cpe_eventfd()
        guard fd >= 0 else { throw EngineError.system(call: "eventfd", errno: -fd) }
        self.eventFD = fd
    }

    deinit {
        cpe_close(self.eventFD)
    }

    /// Producer side, after its record is published: wakes the writer if it announced sleep.
    @inline(__always)
    public func notify() {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        guard self.sleeping.load(ordering: .relaxed) else { return }
        if self.sleeping.exchange(false, ordering: .acquiringAndReleasing) {
            cpe_eventfd_signal(self.eventFD)
        }
    }

    /// Wakes the writer whatever it is doing (a reopen, a stop, a new queue).
    public func signal() {
        self.sleeping.store(false, ordering: .releasing)
        cpe_eventfd_signal(self.eventFD)
    }

    /// Writer side, before its last look at the queues: from here a producer signals.
    public func announceSleep() {
        self.sleeping.store(true, ordering: .relaxed)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
    }

    /// Writer side, awake again: producers stop signalling, and a pending signal is consumed.
    public func awake() {
        self.sleeping.store(false, ordering: .relaxed)
        cpe_eventfd_drain(self.eventFD)
    }
}
