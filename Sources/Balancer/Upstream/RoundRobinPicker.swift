/// nginx's smooth weighted round robin (`ngx_stream_upstream_get_peer`).
///
/// Each eligible member gains its `effectiveWeight`; the one with the largest `currentWeight` wins
/// and pays back the sum, so weights 5,1,1 give a a b a c a a. `effectiveWeight` drops on failures
/// and climbs back by one each pass.
enum RoundRobinPicker {
    /// Picks among members with `backup == backup`; returns the chosen index.
    static func pick(_ members: inout [UpstreamMember], backup: Bool, context: PickContext) -> Int? {
        var best = -1
        var total = 0
        members.withUnsafeMutableBufferPointer { members in
            for index in members.indices {
                guard members[index].listed, members[index].backup == backup, context.isEligible(members[index]) else {
                    continue
                }
                members[index].currentWeight += members[index].effectiveWeight
                total += members[index].effectiveWeight
                if members[index].effectiveWeight < members[index].weight {
                    members[index].effectiveWeight += 1
                }
                if best < 0 || members[index].currentWeight > members[best].currentWeight {
                    best = index
                }
            }
            if best >= 0 {
                members[best].currentWeight -= total
            }
        }
        return best >= 0 ? best : nil
    }
}
