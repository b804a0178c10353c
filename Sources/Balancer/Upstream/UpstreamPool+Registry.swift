import Registry

extension DiscoveredMember {
    /// The fields of a registry record the pool balances on.
    public init(_ record: MemberRecord) {
        self.init(id: record.id, host: record.host, port: record.port, weight: record.weight, draining: record.draining, leaving: record.leaving)
    }
}

extension UpstreamPool {
    /// Applies the Registry's member records (a `MembershipSnapshot`'s `members` and `stale`).
    ///
    /// Disfavoured so an empty literal (`applyMembership([], stale:)`) still resolves to the
    /// `DiscoveredMember` overload instead of being ambiguous.
    @_disfavoredOverload
    @discardableResult
    public func applyMembership(_ members: [MemberRecord], stale: Bool) -> MembershipChange {
        applyMembership(members.map(DiscoveredMember.init), stale: stale)
    }

    /// Applies one snapshot of `MembershipWatch.snapshots()`.
    @discardableResult
    public func apply(_ snapshot: MembershipSnapshot) -> MembershipChange {
        applyMembership(snapshot.members, stale: snapshot.stale)
    }
}
