import MusterBase

/// nginx's `hash $remote_addr [consistent]` (`ngx_stream_upstream_hash_module`): the client's
/// address decides, so a client comes back to the same member.
///
/// Plain: the key's CRC-32 picks a slot in the weighted member list (Cache::Memcached compatible);
/// an ineligible member makes it rehash with a counter prefix. Consistent: ketama points on a ring
/// (`ConsistentHashRing`), so a member leaving only moves its own clients. After 20 misses, with no
/// client address (a unix socket) or with a lone member, round robin takes over. No backups.
struct HashBalancing: BalancingAlgorithm {
    static var directive: String? { "hash" }
    static var argumentCount: ClosedRange<Int> { 1...2 }

    static func parse(_ arguments: [String]) throws(BalancingParameterError) -> Self {
        guard arguments[0] == "$remote_addr" else {
            throw BalancingParameterError(
                argument: 0, message: "unsupported hash key \"\(ConfigError.shown(arguments[0]))\": only $remote_addr is supported")
        }
        guard arguments.count == 2 else { return Self(consistent: false) }
        guard arguments[1] == "consistent" else {
            throw BalancingParameterError(
                argument: 1, message: "invalid parameter \"\(ConfigError.shown(arguments[1]))\" in \"hash\" (only \"consistent\")")
        }
        return Self(consistent: true)
    }

    let consistent: Bool
    /// The summed weight of listed primary members (nginx's `total_weight`), for plain hashing.
    private var primaryWeight = 0
    private var ring = ConsistentHashRing()

    init(consistent: Bool) {
        self.consistent = consistent
    }

    var description: String { consistent ? "hash consistent" : "hash" }
    var supportsBackup: Bool { false }
    /// nginx Plus ignores slow_start for hash methods; so do we, and `check` says so.
    var rampsSlowStart: Bool { false }
    var needsClientAddress: Bool { true }

    mutating func rebuild(_ members: [PoolMember]) {
        primaryWeight = 0
        for member in members where member.peer.listed && !member.peer.backup {
            primaryWeight += member.peer.weight
        }
        ring = consistent ? ConsistentHashRing(members: members) : ConsistentHashRing()
    }

    mutating func pick(
        _ members: inout [PoolMember], clientAddress: String?, context: PickContext, random: inout SplitMix64
    ) -> Int? {
        guard let key = clientAddress, !key.isEmpty, !context.single else {
            return RoundRobinBalancing.pick(&members, backup: false, context: context)
        }
        return consistent ? ring.pick(&members, key: key, context: context) : plainPick(&members, key: key, context: context)
    }

    /// `ngx_stream_upstream_get_hash_peer`.
    private func plainPick(_ members: inout [PoolMember], key: String, context: PickContext) -> Int? {
        guard primaryWeight > 0 else { return RoundRobinBalancing.pick(&members, backup: false, context: context) }
        var hash: UInt64 = 0
        var tries = 0
        var rehash = 0
        while true {
            var crc = CRC32()
            if rehash > 0 {
                Self.updateDecimal(&crc, rehash)
            }
            crc.updateUTF8(key)
            hash &+= UInt64((crc.value >> 16) & 0x7FFF)
            rehash += 1

            var slot = Int(hash % UInt64(primaryWeight))
            var chosen = -1
            for index in members.indices where members[index].peer.listed && !members[index].peer.backup {
                if slot < members[index].peer.weight {
                    chosen = index
                    break
                }
                slot -= members[index].peer.weight
            }
            if chosen >= 0, context.isEligible(members, chosen) {
                return chosen
            }
            tries += 1
            if tries > Self.maximumTries {
                return RoundRobinBalancing.pick(&members, backup: false, context: context)
            }
        }
    }

    /// Feeds `value` as decimal ASCII, like nginx's `ngx_sprintf("%ui")`, without building a String.
    static func updateDecimal(_ crc: inout CRC32, _ value: Int) {
        var divisor = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            crc.update(byte: UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}

extension BalancingMethod {
    /// `hash $remote_addr [consistent]`: the client address decides; `consistent` is ketama-style.
    public static func hash(consistent: Bool) -> BalancingMethod {
        BalancingMethod(HashBalancing(consistent: consistent))
    }
}

extension CRC32 {
    /// Feeds a string's UTF-8 bytes without copying them when the string is native.
    mutating func updateUTF8(_ text: String) {
        var text = text
        text.withUTF8 { update($0) }
    }
}
