/// The accept-rate limit of one listener (`accept_rate N [burst=M];`, HAProxy's `rate-limit
/// sessions`) as a pure token bucket, in the GCRA form: one "theoretical arrival time" instead of
/// a token count, so a check is two comparisons and no division.
///
/// Above the rate the caller stops accepting until ``nextAdmission(after:)``: clients wait in the
/// kernel's accept queue (sized by `listen ... backlog=`) instead of being refused. After an idle
/// spell `burst` extra connections may be accepted at once; over any window of T seconds at most
/// `rate * T + burst + 1` are admitted. Times are monotonic nanoseconds from any origin.
///
/// `tick` is the caller's clock resolution: connections due within one tick are admitted together
/// (a worker reading a millisecond clock and woken by `epoll_wait`'s millisecond timeout could
/// otherwise admit at most one per wake-up, 1,000/s whatever the rate). So the effective burst is
/// at least `rate * tick - 1`: none at 1,000/s or less with a millisecond tick.
public struct AcceptBucket: Sendable, Equatable {
    /// Connections per second, at least 1.
    public let rate: Int
    /// Connections admitted at once beyond the steady pace, default 0 (as nginx's `burst`).
    public let burst: Int
    /// Nanoseconds between two admissions at the steady pace.
    public let interval: Int64
    let tolerance: Int64
    /// When the next admission is due at the steady pace; admissions may run ahead by `tolerance`.
    private var theoreticalArrival: Int64 = .min

    public init(rate: Int, burst: Int = 0, tick: Int64 = 1) {
        precondition(rate >= 1 && burst >= 0 && tick >= 1, "accept rate must be at least 1 and burst at least 0")
        self.rate = rate
        self.burst = burst
        self.interval = max(1, 1_000_000_000 / Int64(rate))
        let (scaled, overflow) = self.interval.multipliedReportingOverflow(by: Int64(burst))
        self.tolerance = max(overflow ? Int64.max / 4 : scaled, tick - self.interval)
    }

    /// Takes one admission at `now` if the rate allows it.
    @inline(__always)
    public mutating func admit(at now: Int64) -> Bool {
        guard let next = Self.step(self.theoreticalArrival, now: now, interval: self.interval, tolerance: self.tolerance)
        else { return false }
        self.theoreticalArrival = next
        return true
    }

    /// The earliest time ``admit(at:)`` succeeds, `now` if it would succeed now.
    public func nextAdmission(after now: Int64) -> Int64 {
        Self.earliest(self.theoreticalArrival, now: now, tolerance: self.tolerance)
    }

    /// One GCRA step: the theoretical arrival time after an admission at `now`, or nil when `now`
    /// is above the rate. Shared with ``AcceptLimiter``, which runs it on an atomic.
    @inline(__always)
    static func step(_ theoreticalArrival: Int64, now: Int64, interval: Int64, tolerance: Int64) -> Int64? {
        let due = max(theoreticalArrival, now)
        guard due - now <= tolerance else { return nil }
        return due + interval
    }

    static func earliest(_ theoreticalArrival: Int64, now: Int64, tolerance: Int64) -> Int64 {
        theoreticalArrival == .min ? now : max(now, theoreticalArrival - tolerance)
    }
}
