import CProxyEngine

/// `accept_rate`: above the rate a worker stops accepting on the listener and waits in its own
/// loop; the clients wait in the kernel's accept queue (`listen ... backlog=`), none is refused.
///
/// The listener is taken out of the worker's epoll set for the pause: it is level-triggered (and
/// `EPOLLEXCLUSIVE` forbids `EPOLL_CTL_MOD`), so left in, a queue the worker may not take from yet
/// would wake it at once, forever. No event will announce the clients already queued either, so
/// when the pause ends the worker accepts by itself, then puts the listener back. The resume time
/// is one field per listener rather than a TimerHeap entry: the heap is indexed by session slot,
/// and a worker has a handful of listeners, scanned only while one is paused.
extension WorkerCore {
    mutating func pauseAccepting(_ index: Int, limiter: AcceptLimiter) {
        let next = limiter.nextAdmission(after: self.now &* AcceptLimiter.workerTick)
        // Rounded up to the worker's millisecond clock, and never "now" (that would spin).
        let resume = max(self.now + 1, (next + AcceptLimiter.workerTick - 1) / AcceptLimiter.workerTick)
        if self.listeners[index].pausedUntil == 0 {
            self.pausedListeners += 1
        }
        if self.listeners[index].watched {
            _ = cpe_epoll_del(self.epollFD, self.listeners[index].fd)
            self.listeners[index].watched = false
        }
        self.listeners[index].pausedUntil = resume
        self.listeners[index].route.counters.add(.acceptPauses, 1, worker: self.index)
    }

    /// Resumes the listeners whose pause is over: accepts what queued meanwhile (which may pause
    /// them again), and watches them again if not.
    mutating func resumeListeners() {
        for index in self.listeners.indices {
            let listener = self.listeners[index]
            guard listener.pausedUntil > 0, listener.pausedUntil <= self.now else { continue }
            self.listeners[index].pausedUntil = 0
            self.pausedListeners -= 1
            self.accept(listenerID: listener.id)
            if self.listeners[index].pausedUntil == 0 {
                self.listeners[index].watched = true
                _ = cpe_epoll_add(
                    self.epollFD, listener.fd, listener.flags, Self.kindListener | UInt64(UInt32(truncatingIfNeeded: listener.id)))
            }
        }
    }

    /// `epoll_wait`'s timeout, shortened to the end of the earliest pause.
    func acceptResumeTimeout(_ timeout: Int32) -> Int32 {
        var earliest = Int64.max
        for listener in self.listeners where listener.pausedUntil > 0 {
            earliest = min(earliest, listener.pausedUntil)
        }
        let wait = Int32(clamping: max(0, earliest - self.now))
        return timeout < 0 ? wait : min(timeout, wait)
    }

    mutating func countPausedListeners() {
        self.pausedListeners = self.listeners.reduce(0) { $0 + ($1.pausedUntil > 0 ? 1 : 0) }
    }
}
