import Logging

/// What ``ReconcileLoop`` drives: one pass makes ZooKeeper and the local view agree.
protocol Reconciler {
    /// The session is not connected (disconnected, expired, auth failed): no pass runs until it is.
    mutating func disconnected()
    /// The session is connected with another id than at the last pass: every watch of the old one
    /// is gone, so everything is read again.
    mutating func sessionChanged()
    /// One pass in the connected session `session` (its id tells this session's ephemeral nodes
    /// from a dead one's); `audit` is true when the audit timer fired since the last pass. Throws
    /// to be retried with backoff.
    mutating func pass(audit: Bool, session: Int64) async throws
    /// A pass threw: whether to retry (after `retryAfter`) or stop the loop.
    mutating func failed(_ error: any Error, retryAfter: Duration) -> ReconcileLoop.Verdict
}

/// The one reconcile loop of ``Registration`` and ``MembershipWatch``: it wakes on any change
/// (a session state, a fired watch, a local request, a retry or audit timer), then runs one pass
/// while the session is connected. Wake-ups coalesce (``WakeSignal``): each pass re-reads what it
/// needs, so only "something happened" matters.
///
/// The session arrives only as the client's stream (``ZooKeeperClient/sessions()``): the loop keeps
/// the latest one it was told, and never reads the client's state again.
///
/// Nothing polls. The only timers are the retry backoff after a failed pass (100 ms doubling to
/// 5 s) and the optional audit: ZooKeeper sends no watch event to a client that lost READ
/// permission on a path (an ACL change fires nothing), so a reader that must notice withdrawn
/// access re-reads on a fixed interval even with no event. That is a bounded safety net for the
/// one change ZooKeeper cannot report, not a substitute for watches.
struct ReconcileLoop: Sendable {
    enum Verdict: Sendable, Equatable {
        case retry
        case stop
    }

    static let firstBackoff = Duration.milliseconds(100)
    static let maximumBackoff = Duration.seconds(5)

    let client: ZooKeeperClient
    let wake: WakeSignal
    /// The audit interval, or nil for none.
    let audit: Duration?

    /// Runs until the task is cancelled or the reconciler stops it.
    func run<R: Reconciler>(_ reconciler: inout R) async {
        let auditDue = Locked(false)
        let latest = Locked<Session?>(nil)
        // Subscribed before the loop starts: its first element, the session now, is the first wake-up.
        let sessions = client.sessions()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [wake] in
                for await session in sessions {
                    latest.withLock { $0 = session }
                    wake.signal()
                }
            }
            if let audit {
                group.addTask { [wake] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: audit)
                        auditDue.withLock { $0 = true }
                        wake.signal()
                    }
                }
            }
            await loop(&reconciler, auditDue: auditDue, latest: latest)
            group.cancelAll()
        }
    }

    private func loop<R: Reconciler>(_ reconciler: inout R, auditDue: Locked<Bool>, latest: Locked<Session?>) async {
        var backoff = Self.firstBackoff
        var retryTimer: Task<Void, Never>?
        var sessionID: Int64 = 0
        defer { retryTimer?.cancel() }
        for await _ in wake.signals {
            if Task.isCancelled { break }
            retryTimer?.cancel()
            retryTimer = nil
            guard let session = latest.withLock({ $0 }), session.state == .connected else {
                reconciler.disconnected()
                continue
            }
            if session.id != sessionID {
                sessionID = session.id
                reconciler.sessionChanged()
            }
            do {
                try await reconciler.pass(audit: auditDue.withLock { due in defer { due = false }; return due }, session: sessionID)
                backoff = Self.firstBackoff
            } catch {
                if reconciler.failed(error, retryAfter: backoff) == .stop { return }
                retryTimer = wake.signal(after: backoff)
                backoff = min(backoff * 2, Self.maximumBackoff)
            }
        }
    }
}


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
