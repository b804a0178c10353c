import MusterBase

/// nginx's `least_conn` (`ngx_stream_upstream_get_least_conn_peer`): the fewest active connections
/// relative to weight (`conns / weight`); among equals, smooth weighted round robin decides. A lone
/// primary goes through round robin, as nginx's `peers->single` does; backups get a least_conn pass
/// of their own.
struct LeastConnBalancing: ParameterlessBalancing {
    static var directive: String? { "least_conn" }

    var description: String { "least_conn" }

    mutating func pick(
        _ members: inout [PoolMember], clientAddress: String?, context: PickContext, random: inout SplitMix64
    ) -> Int? {
        let primary = context.single
            ? RoundRobinBalancing.pick(&members, backup: false, context: context)
            : Self.pick(&members, backup: false, context: context)
        return primary ?? Self.pick(&members, backup: true, context: context)
    }

    static func pick(_ members: inout [PoolMember], backup: Bool, context: PickContext) -> Int? {
        var best = -1
        var many = false
        for index in members.indices {
            guard members[index].peer.backup == backup, context.isEligible(members, index) else { continue }
            if best < 0 {
                best = index
                many = false
                continue
            }
            // Cross-multiplied to compare conns/weight without division; weights ramp in slow start.
            let lhs = members[index].peer.active * members[best].peer.weight * members[best].peer.rampPermille(now: context.now)
            let rhs = members[best].peer.active * members[index].peer.weight * members[index].peer.rampPermille(now: context.now)
            if lhs < rhs {
                best = index
                many = false
            } else if lhs == rhs {
                many = true
            }
        }
        guard best >= 0 else { return nil }
        var total = 0
        if many {
            for index in best..<members.count {
                guard members[index].peer.backup == backup, context.isEligible(members, index) else { continue }
                if members[index].peer.active * members[best].peer.weight * members[best].peer.rampPermille(now: context.now)
                    != members[best].peer.active * members[index].peer.weight * members[index].peer.rampPermille(now: context.now) {
                    continue
                }
                let weight = members[index].peer.effectiveWeight * members[index].peer.rampPermille(now: context.now)
                members[index].peer.currentWeight += weight
                total += weight
                if members[index].peer.effectiveWeight < members[index].peer.weight {
                    members[index].peer.effectiveWeight += 1
                }
                if members[index].peer.currentWeight > members[best].peer.currentWeight {
                    best = index
                }
            }
        }
        members[best].peer.currentWeight -= total
        return best
    }
}

extension BalancingMethod {
    /// `least_conn`: fewest active connections relative to weight; ties by weighted round robin.
    public static let leastConn = BalancingMethod(LeastConnBalancing())
}
