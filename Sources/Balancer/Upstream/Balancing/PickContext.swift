/// What every picker needs to judge a member eligible for one pick.
struct PickContext {
    /// Monotonic time since the pool's origin (see `PassiveHealth`).
    let now: Duration
    /// Members already tried for this client (nginx's `tried` bitmap).
    let excluding: Set<MemberID>
    /// nginx's `peers->single`: a group of one primary and no backup never marks it failed.
    let single: Bool
    /// A second pass when every other member failed: damping alone never empties a group.
    var useDamped = false

    /// Whether `members[index]` may take this connection (nginx's skip order: tried, down, failed,
    /// full). Reads the member in place; the id is only touched when this client has tried others.
    @inline(__always)
    func isEligible(_ members: borrowing [PoolMember], _ index: Int) -> Bool {
        guard members[index].peer.isUsable(now: now, single: single, useDamped: useDamped) else { return false }
        if !excluding.isEmpty, excluding.contains(members[index].id) { return false }
        return true
    }
}
