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
/// Times are monotonic offsets from an arbitrary origin (the pool's creation), not
/// `ContinuousClock.Instant`: that type is resilient, so every copy of a struct holding it goes
/// through value witnesses, which made each pick several times slower. A `nil` time stands for
/// nginx's zero timestamp ("long ago").
struct PassiveHealth: Sendable, Equatable {
    var maxFails: Int
    var failTimeout: Duration
    private(set) var fails = 0
    private(set) var accessed: Duration?
    private(set) var checked: Duration?

    init(maxFails: Int, failTimeout: Duration) {
        self.maxFails = maxFails
        self.failTimeout = failTimeout
    }

    /// Whether the member may be picked at `now`.
    @inline(__always)
    func isAvailable(at now: Duration) -> Bool {
        guard maxFails > 0, fails >= maxFails, let checked else { return true }
        return now - checked > failTimeout
    }

    /// Records that the member was picked at `now`.
    @inline(__always)
    mutating func picked(at now: Duration) {
        if let checked, now - checked <= failTimeout { return }
        checked = now
    }

    /// Records a failed connect; returns true when this failure takes the member out of service.
    @discardableResult
    mutating func failed(at now: Duration) -> Bool {
        fails += 1
        accessed = now
        checked = now
        return maxFails > 0 && fails == maxFails
    }

    /// Records a successful connect: a trial after `failTimeout` makes the member live again.
    mutating func succeeded() {
        guard let checked else { return }
        if let accessed, accessed >= checked { return }
        fails = 0
    }
}
