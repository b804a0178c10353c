/// nginx's `random` and `random two` (`ngx_stream_upstream_random_module`): a weighted random
/// member; with `two`, the one with fewer connections (relative to weight) of two random members.
/// After 20 misses round robin takes over.
enum RandomPicker {
    /// `ranges[i]` is the running weight total of the listed primary members up to `members[i]`'s
    /// position; `rangeMembers[i]` is that member's index.
    static func pick(
        _ members: inout [UpstreamMember],
        ranges: [Int],
        rangeMembers: [Int],
        two: Bool,
        generator: inout SplitMix64,
        context: PickContext
    ) -> Int? {
        guard let totalWeight = ranges.last, totalWeight > 0 else {
            return RoundRobinPicker.pick(&members, backup: false, context: context)
        }
        var tries = 0
        var previous = -1
        while true {
            let x = Int(generator.next() % UInt64(totalWeight))
            var low = 0
            var high = ranges.count
            while high - low > 1 {
                let middle = (low + high) / 2
                if x < ranges[middle - 1] {
                    high = middle
                } else {
                    low = middle
                }
            }
            let candidate = rangeMembers[low]
            if candidate != previous, context.isEligible(members, candidate) {
                if !two {
                    return candidate
                }
                if previous >= 0 {
                    let chosen = members[candidate].peer.active * members[previous].peer.weight
                        > members[previous].peer.active * members[candidate].peer.weight ? previous : candidate
                    return chosen
                }
                previous = candidate
            }
            tries += 1
            if tries > HashPicker.maximumTries {
                return RoundRobinPicker.pick(&members, backup: false, context: context)
            }
        }
    }
}
