import NIOConcurrencyHelpers

/// A value set once that async code can wait for: the first `fire` decides it, later ones are
/// ignored, and every waiter (earlier or later) gets that value.
final class OneShot<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [CheckedContinuation<Value, Never>] = []
    }
    private let state = NIOLockedValueBox(State())

    func fire(_ value: Value) {
        let waiters: [CheckedContinuation<Value, Never>] = self.state.withLockedValue { state in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters {
            waiter.resume(returning: value)
        }
    }

    func wait() async -> Value {
        await withCheckedContinuation { (continuation: CheckedContinuation<Value, Never>) in
            let value: Value? = self.state.withLockedValue { state in
                if let value = state.value { return value }
                state.waiters.append(continuation)
                return nil
            }
            if let value {
                continuation.resume(returning: value)
            }
        }
    }
}

/// How the balancer stops: the first request decides.
enum ShutdownMode: Sendable {
    /// Stop accepting, let connections finish up to the drain deadline.
    case drain
    /// Close everything at once (task cancelled).
    case immediate
}

/// How starting ended, for `waitUntilStarted`.
enum StartOutcome: Sendable {
    /// Listeners and the admin endpoint are bound.
    case running
    /// Starting failed; `run` throws the error.
    case failed
}
