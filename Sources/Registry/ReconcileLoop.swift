import Logging

/// What ``ReconcileLoop`` drives: one pass makes ZooKeeper and the local view agree.
protocol Reconciler {
    /// The session is not connected (disconnected, expired, auth failed): no pass runs until it is.
    mutating func disconnected()
    /// The session is connected with another id than at the last pass: every watch of the old one
    /// is gone, so everything is read again.
    mutating func sessionChanged()
    /// One pass; `audit` is true when the audit timer fired since the last pass. Throws to be
    /// retried with backoff.
    mutating func pass(audit: Bool) async throws
    /// A pass threw: whether to retry (after `retryAfter`) or stop the loop.
    mutating func failed(_ error: any Error, retryAfter: Duration) -> ReconcileLoop.Verdict
}

/// The one reconcile loop of ``Registration`` and ``MembershipWatch``: it wakes on any change
/// (a session state, a fired watch, a local request, a retry or audit timer), then runs one pass
/// while the session is connected. Wake-ups coalesce (``WakeSignal``): each pass re-reads what it
/// needs, so only "something happened" matters.
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
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [client, wake] in
                for await _ in client.sessionStates() { wake.signal() }
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
            await loop(&reconciler, auditDue: auditDue)
            group.cancelAll()
        }
    }

    private func loop<R: Reconciler>(_ reconciler: inout R, auditDue: Locked<Bool>) async {
        var backoff = Self.firstBackoff
        var retryTimer: Task<Void, Never>?
        var sessionID: Int64 = 0
        defer { retryTimer?.cancel() }
        wake.signal()
        for await _ in wake.signals {
            if Task.isCancelled { break }
            retryTimer?.cancel()
            retryTimer = nil
            guard client.state == .connected else {
                reconciler.disconnected()
                continue
            }
            let currentSession = client.sessionID
            if currentSession != sessionID {
                sessionID = currentSession
                reconciler.sessionChanged()
            }
            do {
                try await reconciler.pass(audit: auditDue.withLock { due in defer { due = false }; return due })
                backoff = Self.firstBackoff
            } catch {
                if reconciler.failed(error, retryAfter: backoff) == .stop { return }
                retryTimer = wake.signal(after: backoff)
                backoff = min(backoff * 2, Self.maximumBackoff)
            }
        }
    }
}
