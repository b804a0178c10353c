import MusterBase

/// nginx's smooth weighted round robin (`ngx_stream_upstream_get_peer`), the default method.
///
/// Each eligible member gains its `effectiveWeight`; the one with the largest `currentWeight` wins
/// and pays back the sum, so weights 5,1,1 give a a b a c a a. `effectiveWeight` drops on failures
/// and climbs back by one each pass. Weights count in per-mille (`SlowStart`) so a member in slow
/// start gains only its ramped share; with no ramp that is nginx's sequence scaled by 1000.
/// Backups are tried only when no primary is eligible. Its state is the members' own weights.
struct RoundRobinBalancing: ParameterlessBalancing {
    static var directive: String? { nil }

    var description: String { "round_robin" }

    mutating func pick(
        _ members: inout [PoolMember], clientAddress: String?, context: PickContext, random: inout SplitMix64
    ) -> Int? {
        Self.pick(&members, backup: false, context: context) ?? Self.pick(&members, backup: true, context: context)
    }

    /// One pass among members with `backup == backup`; returns the chosen index. The other
    /// algorithms fall back to it, as nginx's do.
    static func pick(_ members: inout [PoolMember], backup: Bool, context: PickContext) -> Int? {
        var best = -1
        var total = 0
        for index in members.indices {
            guard members[index].peer.backup == backup, context.isEligible(members, index) else { continue }
            let weight = members[index].peer.effectiveWeight * members[index].peer.rampPermille(now: context.now)
            members[index].peer.currentWeight += weight
            total += weight
            if members[index].peer.effectiveWeight < members[index].peer.weight {
                members[index].peer.effectiveWeight += 1
            }
            if best < 0 || members[index].peer.currentWeight > members[best].peer.currentWeight {
                best = index
            }
        }
        guard best >= 0 else { return nil }
        members[best].peer.currentWeight -= total
        return best
    }
}
