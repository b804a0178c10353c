import Synchronization

/// One listener's accept rate, shared by every worker that accepts on it: ``AcceptBucket``'s GCRA
/// step on one atomic "theoretical arrival time" (a compare-and-swap per accepted client, only on
/// listeners with `accept_rate`).
///
/// Why one shared bucket rather than rate/N per worker: the listener as a whole must keep to N/s
/// plus the burst however the kernel spreads clients. A shared socket wakes one worker per
/// connection with `EPOLLEXCLUSIVE` (unevenly: usually the last one to wait), and with `reuseport`
/// each worker's socket gets the clients its hash gives it; a per-worker share would then run one
/// worker's queue at rate/N while another idles, and rate/N rounds badly (`accept_rate 1` on two
/// workers). The shared line costs what `worker_connections`' shared counter already costs.
///
/// The route holds it (`ProxyRoute.acceptLimiter`), so a reload that keeps the rate keeps the
/// bucket's state and one that changes it starts a new one.
public final class AcceptLimiter: Sendable {
    /// The workers' clock resolution (`cpe_monotonic_ms`, `epoll_wait`'s timeout): 1 ms.
    public static let workerTick: Int64 = 1_000_000

    public let rate: Int
    public let burst: Int
    private let interval: Int64
    private let tolerance: Int64
    private let theoreticalArrival = Atomic<Int64>(.min)

    public init(rate: Int, burst: Int = 0, tick: Int64 = AcceptLimiter.workerTick) {
        let bucket = AcceptBucket(rate: rate, burst: burst, tick: tick)
        self.rate = rate
        self.burst = burst
        self.interval = bucket.interval
        self.tolerance = bucket.tolerance
    }

    /// Takes one admission at `now` (monotonic ns): a receipt for ``giveBack(_:)``, or nil above the rate.
    @inline(__always)
    public func take(at now: Int64) -> Int64? {
        var current = self.theoreticalArrival.load(ordering: .relaxed)
        while true {
            guard let next = AcceptBucket.step(current, now: now, interval: self.interval, tolerance: self.tolerance)
            else { return nil }
            let (exchanged, original) = self.theoreticalArrival.compareExchange(
                expected: current, desired: next, ordering: .relaxed)
            if exchanged { return next }
            current = original
        }
    }

    /// Returns an admission that found the accept queue empty, unless another admission came since
    /// (then it stays spent: the listener admits slightly less, never more).
    public func giveBack(_ receipt: Int64) {
        _ = self.theoreticalArrival.compareExchange(
            expected: receipt, desired: receipt - self.interval, ordering: .relaxed)
    }

    /// The earliest time (monotonic ns) ``take(at:)`` can succeed.
    public func nextAdmission(after now: Int64) -> Int64 {
        AcceptBucket.earliest(self.theoreticalArrival.load(ordering: .relaxed), now: now, tolerance: self.tolerance)
    }
}
