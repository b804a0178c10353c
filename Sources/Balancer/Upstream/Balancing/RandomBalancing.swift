import MusterBase

/// nginx's `random` and `random two` (`ngx_stream_upstream_random_module`): a weighted random
/// member; with `two`, the one with fewer connections (relative to weight) of two random members.
/// After 20 misses, with a lone member, or with `two` and fewer than two members, round robin takes
/// over. No backups.
struct RandomBalancing: BalancingAlgorithm {
    static var directive: String? { "random" }
    static var argumentCount: ClosedRange<Int> { 0...2 }

    static func parse(_ arguments: [String]) throws(BalancingParameterError) -> Self {
        guard let first = arguments.first else { return Self(two: false) }
        guard first == "two" else {
            throw BalancingParameterError(
                argument: 0, message: "invalid parameter \"\(ConfigError.shown(first))\" in \"random\" (only \"two\")")
        }
        // nginx's `random two least_conn` names the only way of choosing between the two.
        if arguments.count == 2, arguments[1] != "least_conn" {
            throw BalancingParameterError(
                argument: 1, message: "invalid parameter \"\(ConfigError.shown(arguments[1]))\" in \"random two\" (only \"least_conn\")")
        }
        return Self(two: true)
    }

    let two: Bool
    /// `ranges[i]` is the running weight total of the listed primary members up to `members[i]`'s
    /// position; `rangeMembers[i]` is that member's index.
    private var ranges: [Int] = []
    private var rangeMembers: [Int] = []

    init(two: Bool) {
        self.two = two
    }

    var description: String { two ? "random two" : "random" }
    var supportsBackup: Bool { false }
    var rampsSlowStart: Bool { false }

    mutating func rebuild(_ members: [PoolMember]) {
        ranges.removeAll(keepingCapacity: true)
        rangeMembers.removeAll(keepingCapacity: true)
        var total = 0
        for index in members.indices where members[index].peer.listed && !members[index].peer.backup {
            total += members[index].peer.weight
            ranges.append(total)
            rangeMembers.append(index)
        }
    }

    mutating func pick(
        _ members: inout [PoolMember], clientAddress: String?, context: PickContext, random: inout SplitMix64
    ) -> Int? {
        guard !context.single, !(two && rangeMembers.count < 2), let totalWeight = ranges.last, totalWeight > 0 else {
            return RoundRobinBalancing.pick(&members, backup: false, context: context)
        }
        var tries = 0
        var previous = -1
        while true {
            let x = Int(random.next() % UInt64(totalWeight))
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
                    return members[candidate].peer.active * members[previous].peer.weight
                        > members[previous].peer.active * members[candidate].peer.weight ? previous : candidate
                }
                previous = candidate
            }
            tries += 1
            if tries > Self.maximumTries {
                return RoundRobinBalancing.pick(&members, backup: false, context: context)
            }
        }
    }
}

extension BalancingMethod {
    /// `random [two]`: weighted random; `two` picks the less loaded of two random members.
    public static func random(two: Bool) -> BalancingMethod {
        BalancingMethod(RandomBalancing(two: two))
    }
}
