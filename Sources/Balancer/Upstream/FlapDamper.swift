/// The flap history of discovered members, kept by id so it outlives a member that is removed and
/// registers again (the very pattern it damps). Pure: times are the pool's monotonic offsets.
struct FlapDamper: Sendable {
    struct History: Sendable {
        /// Times of the last changes within the window, oldest first (at most `limit + 1`).
        var changes: [Duration] = []
        var lastChange: Duration
        /// Ejections since the history last reset.
        var ejections = 0
        /// The member is held out until this time.
        var heldUntil: Duration?
        /// How many changes within the window caused the current hold-down (for its reason).
        var count = 0
    }

    var settings: FlapDamping
    private(set) var histories: [MemberID: History] = [:]
    /// Ejections ever, for the `balancer_ejections_total` counter.
    private(set) var ejections = 0

    init(settings: FlapDamping) {
        self.settings = settings
    }

    /// Records one in/out-of-service change of `id` at `now`. Returns the end of a new hold-down
    /// when this change ejects the member. Changes during a hold-down are not counted.
    mutating func change(_ id: MemberID, at now: Duration) -> Duration? {
        guard settings.limit > 0 else { return nil }
        var history = histories[id] ?? History(lastChange: now)
        if let until = history.heldUntil, now < until {
            return nil
        }
        if now - history.lastChange >= settings.maxHold {
            history.ejections = 0
        }
        history.heldUntil = nil
        history.lastChange = now
        history.changes.removeAll { now - $0 > settings.window }
        history.changes.append(now)
        if history.changes.count > settings.limit + 1 {
            history.changes.removeFirst(history.changes.count - settings.limit - 1)
        }
        var result: Duration?
        if history.changes.count > settings.limit {
            history.ejections += 1
            ejections += 1
            history.count = history.changes.count
            history.changes.removeAll()
            let hold = min(settings.hold * history.ejections, settings.maxHold)
            history.heldUntil = now + hold
            result = now + hold
        }
        histories[id] = history
        return result
    }

    /// The end of `id`'s hold-down, if one is running at `now`.
    func heldUntil(_ id: MemberID, at now: Duration) -> Duration? {
        guard let until = histories[id]?.heldUntil, now < until else { return nil }
        return until
    }

    func history(_ id: MemberID) -> History? { histories[id] }

    /// Drops histories that can no longer matter: no hold-down running and no change for `maxHold`
    /// (their ejection count would reset anyway) and older than the window. Bounds the table.
    mutating func prune(at now: Duration) {
        let horizon = max(settings.maxHold, settings.window)
        histories = histories.filter { _, history in
            if let until = history.heldUntil, now < until { return true }
            return now - history.lastChange < horizon
        }
    }

    /// The earliest time a hold-down ends or a history could be pruned, for the pool's housekeeping.
    func nextDeadline(after now: Duration) -> Duration? {
        var next: Duration?
        for history in histories.values {
            if let until = history.heldUntil, until > now {
                next = min(next ?? until, until)
            }
        }
        return next
    }
}
