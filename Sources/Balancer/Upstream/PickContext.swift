/// What every picker needs to judge a member eligible for one pick.
struct PickContext {
    let now: ContinuousClock.Instant
    /// Members already tried for this client (nginx's `tried` bitmap).
    let excluding: Set<MemberID>
    /// nginx's `peers->single`: a group of one primary and no backup never marks it failed.
    let single: Bool

    /// nginx's skip order: tried, down, failed (`max_fails`), full (`max_conns`).
    @inline(__always)
    func isEligible(_ member: UpstreamMember) -> Bool {
        guard member.inService else { return false }
        if !excluding.isEmpty, excluding.contains(member.id) { return false }
        if !single, !member.health.isAvailable(at: now) { return false }
        if member.maxConns > 0, member.active >= member.maxConns { return false }
        return true
    }
}
