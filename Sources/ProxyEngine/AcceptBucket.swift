/// The accept-rate limit of one listener (`accept_rate N [burst=M];`, HAProxy's `rate-limit
/// sessions`) as a pure token bucket, in the GCRA form: one "theoretical arrival time" instead of
/// a token count, so a check is two comparisons and no division.
///
/// Above the rate the caller stops accepting until ``nextAdmission(after:)``: clients wait in the
/// kernel's accept queue (sized by `listen ... backlog=`) instead of being refused. After an idle
/// spell `burst` extra connections may be accepted at once; over any window of T seconds at most
/// `rate * T + burst + 1` are admitted. Times are monotonic nanoseconds from any origin.
public struct AcceptBucket: Sendable, Equatable {
    /// Connections per second, at least 1.
    public let rate: Int
    /// Connections admitted at once beyond the steady pace, default 0 (as nginx's `burst`).
    public let burst: Int
    /// Nanoseconds between two admissions at the steady pace.
    public let interval: Int64
    private let tolerance: Int64
    /// When the next admission is due at the steady pace; admissions may run ahead by `tolerance`.
    private var theoreticalArrival: Int64 = .min

    public init(rate: Int, burst: Int = 0) {
        precondition(rate >= 1 && burst >= 0, "accept rate must be at least 1 and burst at least 0")
        self.rate = rate
        self.burst = burst
        self.interval = max(1, 1_000_000_000 / Int64(rate))
        self.tolerance = self.interval * Int64(burst)
    }

    /// Takes one admission at `now` if the rate allows it.
    @inline(__always)
    public mutating func admit(at now: Int64) -> Bool {
        let due = max(theoreticalArrival, now)
        guard due - now <= tolerance else { return false }
        theoreticalArrival = due + interval
        return true
    }

    /// The earliest time ``admit(at:)`` succeeds, `now` if it would succeed now.
    public func nextAdmission(after now: Int64) -> Int64 {
        let earliest = theoreticalArrival == .min ? now : theoreticalArrival - tolerance
        return max(now, earliest)
    }
}
