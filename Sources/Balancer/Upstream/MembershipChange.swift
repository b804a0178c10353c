/// What one membership snapshot changed, for the caller to log.
public struct MembershipChange: Sendable, Equatable {
    public var added: [MemberID] = []
    /// Members that stop taking new connections because they left the set.
    public var removed: [MemberID] = []
    /// Lost members kept in service as suspects by the panic threshold.
    public var suspected: [MemberID] = []
    /// Members whose record newly carries a `leaving` mark (no new connections from now on).
    public var leaving: [MemberID] = []
    /// Members whose address, weight or draining flag changed.
    public var updated: [MemberID] = []
    /// Records that were ignored, with why (bad port, empty host, duplicate id).
    public var rejected: [String] = []
    /// True when a stale snapshot was applied without removals (registry unreachable).
    public var keptBecauseStale = false
    /// The first snapshot, or one whose staleness differs from the last one's.
    public var freshnessChanged = false

    public init() {}

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && updated.isEmpty && rejected.isEmpty && suspected.isEmpty }
}
