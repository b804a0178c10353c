/// nginx's `least_conn` (`ngx_stream_upstream_get_least_conn_peer`): the fewest active connections
/// relative to weight (`conns / weight`); among equals, smooth weighted round robin decides.
enum LeastConnPicker {
    static func pick(_ members: inout [UpstreamMember], backup: Bool, context: PickContext) -> Int? {
        var best = -1
        var many = false
        members.withUnsafeMutableBufferPointer { members in
            for index in members.indices {
                let member = members[index]
                guard member.listed, member.backup == backup, context.isEligible(member) else { continue }
                if best < 0 {
                    best = index
                    many = false
                    continue
                }
                // Cross-multiplied to compare conns/weight without division.
                let lhs = member.active * members[best].weight
                let rhs = members[best].active * member.weight
                if lhs < rhs {
                    best = index
                    many = false
                } else if lhs == rhs {
                    many = true
                }
            }
            guard best >= 0 else { return }
            var total = 0
            if many {
                let first = best
                for index in first..<members.count {
                    let member = members[index]
                    guard member.listed, member.backup == backup, context.isEligible(member) else { continue }
                    if member.active * members[best].weight != members[best].active * member.weight { continue }
                    members[index].currentWeight += member.effectiveWeight
                    total += member.effectiveWeight
                    if member.effectiveWeight < member.weight {
                        members[index].effectiveWeight += 1
                    }
                    if members[index].currentWeight > members[best].currentWeight {
                        best = index
                    }
                }
            }
            members[best].currentWeight -= total
        }
        return best >= 0 ? best : nil
    }
}
