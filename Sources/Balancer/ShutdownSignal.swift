import NIOConcurrencyHelpers

/// A one-shot "stop now" flag that async code can wait on; the first request decides the mode.
final class ShutdownSignal: Sendable {
    enum Mode: Sendable {
        /// Stop accepting, let connections finish up to the drain deadline.
        case drain
        /// Close everything at once (task cancelled).
        case immediate
    }

    private struct State {
        var mode: Mode?
        var waiters: [CheckedContinuation<Mode, Never>] = []
    }
    private let state = NIOLockedValueBox(State())

    func fire(_ mode: Mode) {
        let waiters: [CheckedContinuation<Mode, Never>] = self.state.withLockedValue { state in
            guard state.mode == nil else { return [] }
            state.mode = mode
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters {
            waiter.resume(returning: mode)
        }
    }

    func wait() async -> Mode {
        await withCheckedContinuation { (continuation: CheckedContinuation<Mode, Never>) in
            let mode: Mode? = self.state.withLockedValue { state in
                if let mode = state.mode { return mode }
                state.waiters.append(continuation)
                return nil
            }
            if let mode {
                continuation.resume(returning: mode)
            }
        }
    }
}
