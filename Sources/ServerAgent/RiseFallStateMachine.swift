/// Consecutive-result damping for health checks, as in HAProxy and nerve.
///
/// A member starts `down`. It goes `up` only after `rise` consecutive healthy checks and back `down`
/// only after `fall` consecutive failed ones, so one lost packet neither registers nor deregisters it.
/// Pure value: no I/O and no clock of its own; the caller passes the time of every event, which is
/// only used to say how long the previous status lasted.
public struct RiseFallStateMachine<Instant: InstantProtocol & Sendable>: Sendable
where Instant.Duration == Swift.Duration {
    /// Whether the member should be registered.
    public enum Status: String, Sendable, Equatable {
        case down
        case up
    }

    /// A change of ``Status``, with a human-readable reason for the log.
    public struct Transition: Sendable, Equatable {
        public var from: Status
        public var to: Status
        public var reason: String
        public var at: Instant
        /// How long the member had been in `from` (since start or since the previous transition).
        public var previousStatusLasted: Duration
    }

    public let rise: Int
    public let fall: Int
    public private(set) var status: Status = .down
    public private(set) var consecutiveHealthy = 0
    public private(set) var consecutiveFailed = 0
    /// When the current status began.
    public private(set) var since: Instant

    /// - Parameters:
    ///   - rise: consecutive healthy checks needed to go up; values below 1 count as 1.
    ///   - fall: consecutive failed checks needed to go down; values below 1 count as 1.
    ///   - start: the time the machine starts (in status `down`).
    public init(rise: Int, fall: Int, start: Instant) {
        // Validation happens in the configuration; clamping here keeps the machine total.
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        self.since = start
    }

    /// Feeds one check result; returns the transition it caused, if any.
    public mutating func record(_ outcome: CheckOutcome, at now: Instant) -> Transition? {
        switch outcome {
        case .healthy:
            consecutiveFailed = 0
            consecutiveHealthy += 1
            guard status == .down, consecutiveHealthy >= rise else { return nil }
            let reason = consecutiveHealthy == 1 ? "1 check passed" : "\(consecutiveHealthy) consecutive checks passed"
            return transition(to: .up, reason: reason, at: now)
        case .unhealthy(let why):
            consecutiveHealthy = 0
            consecutiveFailed += 1
            guard status == .up, consecutiveFailed >= fall else { return nil }
            let count = consecutiveFailed == 1 ? "1 check failed" : "\(consecutiveFailed) consecutive checks failed"
            return transition(to: .down, reason: "\(count), last: \(why)", at: now)
        }
    }

    /// Goes down at once, without waiting for `fall` checks (the supervised server exited).
    /// Also resets the healthy streak, so coming back needs `rise` fresh checks.
    public mutating func forceDown(reason: String, at now: Instant) -> Transition? {
        consecutiveHealthy = 0
        guard status == .up else { return nil }
        return transition(to: .down, reason: reason, at: now)
    }

    private mutating func transition(to newStatus: Status, reason: String, at now: Instant) -> Transition {
        let result = Transition(
            from: status,
            to: newStatus,
            reason: reason,
            at: now,
            previousStatusLasted: since.duration(to: now)
        )
        status = newStatus
        since = now
        consecutiveHealthy = 0
        consecutiveFailed = 0
        return result
    }
}
