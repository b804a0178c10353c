import NIOConcurrencyHelpers
import NIOCore

/// Admits one event per interval and counts those it turned away in between.
final class RateLimiter: Sendable {
    private struct State {
        var next: NIODeadline = .uptimeNanoseconds(0)
        var suppressed = 0
    }
    private let interval: TimeAmount
    private let state = NIOLockedValueBox(State())

    init(interval: TimeAmount) {
        self.interval = interval
    }

    /// Returns the number of events suppressed since the last admitted one, or nil if this one is suppressed.
    func admit(now: NIODeadline = .now()) -> Int? {
        self.state.withLockedValue { state in
            guard now >= state.next else {
                state.suppressed += 1
                return nil
            }
            let suppressed = state.suppressed
            state.suppressed = 0
            state.next = now + self.interval
            return suppressed
        }
    }
}
