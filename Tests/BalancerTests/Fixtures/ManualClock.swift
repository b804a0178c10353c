import Registry

/// A clock the test moves by hand, so passive-health timeouts are exact and instant.
final class ManualClock: Sendable {
    private let instant: Locked<ContinuousClock.Instant>

    init() {
        instant = Locked(ContinuousClock.now)
    }

    var now: ContinuousClock.Instant { instant.withLock { $0 } }

    func advance(by duration: Duration) {
        instant.withLock { $0 = $0.advanced(by: duration) }
    }

    /// The closure `MemberPool` takes.
    var source: @Sendable () -> ContinuousClock.Instant {
        { [self] in now }
    }
}
