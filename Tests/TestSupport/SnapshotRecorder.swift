import Registry

/// Consumes a ``MembershipWatch`` in the background and keeps every snapshot it yielded, so tests
/// can wait (with a deadline) for a condition on the latest one and inspect the history.
public final class SnapshotRecorder: Sendable {
    private let history = Locked<[MembershipSnapshot]>([])
    private let task: Locked<Task<Void, Never>?> = Locked(nil)

    public init(_ watch: MembershipWatch) {
        let stream = watch.snapshots()
        let consumer = Task { [weak self] in
            for await snapshot in stream {
                guard let self else { return }
                self.history.withLock { $0.append(snapshot) }
            }
        }
        task.withLock { $0 = consumer }
    }

    public var snapshots: [MembershipSnapshot] { history.withLock { $0 } }
    public var latest: MembershipSnapshot? { history.withLock { $0.last } }
    public var latestIDs: [String]? { latest.map { $0.members.map(\.id) } }

    /// Waits until the latest snapshot satisfies `condition`.
    public func waitFor(timeout: Duration = .seconds(20), _ condition: @escaping (MembershipSnapshot) -> Bool) async -> Bool {
        await waitUntil(timeout: timeout, interval: .milliseconds(5)) {
            guard let latest = self.latest else { return false }
            return condition(latest)
        }
    }

    public func stop() {
        task.withLock { $0?.cancel() }
    }

    deinit {
        task.withLock { $0?.cancel() }
    }
}
