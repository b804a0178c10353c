/// nginx's passive health for one member (`max_fails` / `fail_timeout`), as a pure state machine.
///
/// Mirrors the `fails` / `accessed` / `checked` fields of `ngx_stream_upstream_rr_peer_t`:
/// - a failure bumps `fails` and stamps `accessed` and `checked`;
/// - with `fails >= maxFails` the member is unavailable while `now - checked <= failTimeout`;
/// - a pick stamps `checked` once `failTimeout` has passed since the last stamp, so after the
///   timeout exactly one trial connection goes out (it makes the member unavailable again until
///   it reports back), and its success resets `fails` (`accessed < checked`), its failure
///   restarts the timeout;
/// - `maxFails == 0` disables all of this.
/// A `nil` instant stands for nginx's zero timestamp ("long ago").
public struct PassiveHealth: Sendable, Equatable {
    public var maxFails: Int
    public var failTimeout: Duration
    public private(set) var fails = 0
    public private(set) var accessed: ContinuousClock.Instant?
    public private(set) var checked: ContinuousClock.Instant?

    public init(maxFails: Int, failTimeout: Duration) {
        self.maxFails = maxFails
        self.failTimeout = failTimeout
    }

    /// Whether the member may be picked at `now`.
    @inline(__always)
    public func isAvailable(at now: ContinuousClock.Instant) -> Bool {
        guard maxFails > 0, fails >= maxFails, let checked else { return true }
        return now - checked > failTimeout
    }

    /// Records that the member was picked at `now`.
    @inline(__always)
    public mutating func picked(at now: ContinuousClock.Instant) {
        if let checked, now - checked <= failTimeout { return }
        checked = now
    }

    /// Records a failed connect; returns true when this failure takes the member out of service.
    @discardableResult
    public mutating func failed(at now: ContinuousClock.Instant) -> Bool {
        fails += 1
        accessed = now
        checked = now
        return maxFails > 0 && fails == maxFails
    }

    /// Records a successful connect: a trial after `failTimeout` makes the member live again.
    public mutating func succeeded() {
        guard let checked else { return }
        if let accessed, accessed >= checked { return }
        fails = 0
    }
}
