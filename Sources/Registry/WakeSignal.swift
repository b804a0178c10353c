
/// A coalescing wake-up: any number of `signal()` calls between two `wait()`s wake the waiter once.
/// Used by ``ReconcileLoop`` (the registration and membership loops), whose every wake-up
/// re-reads the whole state, so only "something happened" matters, not how often.
final class WakeSignal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func signal() {
        continuation.yield()
    }

    func finish() {
        continuation.finish()
    }

    /// The one consumer's view. Ends when the consuming task is cancelled or `finish()` is called.
    var signals: AsyncStream<Void> { stream }

    /// Signals after `delay` (a retry timer); a cancelled timer does not signal (the loop cancels
    /// a pending timer on every wake-up, and a cancelled one that signalled would wake it again at
    /// once, defeating the backoff).
    @discardableResult
    func signal(after delay: Duration) -> Task<Void, Never> {
        Task { [weak self] in
            do { try await Task.sleep(for: delay) } catch { return }
            self?.signal()
        }
    }

    /// Signals when a one-shot watch fires.
    func signal(when watch: NodeWatch) {
        Task { [weak self] in
            _ = await watch.event()
            self?.signal()
        }
    }
}
