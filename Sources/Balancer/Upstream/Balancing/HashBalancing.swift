import MusterBase

/// nginx's `hash KEY [consistent]` (`ngx_stream_upstream_hash_module`): a key of the connection
/// decides, so a client comes back to the same member. `$remote_addr` is formatted by the engine
/// as today; any other key is a `StreamTemplate` of what is known at pick time (`pickTimeVariables`),
/// which the engine evaluates once per connection (`PoolRoute.pickKey`).
///
/// Plain: the key's CRC-32 picks a slot in the weighted member list (Cache::Memcached compatible);
/// an ineligible member makes it rehash with a counter prefix. Consistent: ketama points on a ring
/// (`ConsistentHashRing`), so a member leaving only moves its own clients. After 20 misses, with an
/// empty key (a unix socket's address) or with a lone member, round robin takes over. No backups.
struct HashBalancing: BalancingAlgorithm {
    static var directive: String? { "hash" }
    static var argumentCount: ClosedRange<Int> { 1...2 }
    /// The key is a string of variables, as nginx's complex value.
    static var textArguments: PartialRangeFrom<Int>? { 0... }

    /// The variables a key may use: those the engine knows when it picks (nginx evaluates the key
    /// in `init_hash_peer`, before the upstream exists, so `$upstream_*`, `$status` and the byte
    /// counts are not known; Muster refuses them rather than hash an empty value).
    static let pickTimeVariables: Set<StreamVariable> = [
        .remoteAddr, .remotePort, .binaryRemoteAddr, .serverAddr, .serverPort, .proxyProtocolAddr,
        .proxyProtocolPort, .realipRemoteAddr, .realipRemotePort, .connection, .pid, .hostname, .protocol, .nginxVersion,
    ]

    static func parse(_ arguments: [String]) throws(BalancingParameterError) -> Self {
        let key: StreamTemplate
        do throws(StreamTemplate.Invalid) {
            key = try StreamTemplate(compiling: arguments[0])
        } catch {
            throw BalancingParameterError(argument: 0, message: "invalid hash key: \(error.message)")
        }
        let unknown = key.variables.subtracting(Self.pickTimeVariables).map { "$" + $0.rawValue }.sorted()
        guard unknown.isEmpty else {
            throw BalancingParameterError(
                argument: 0,
                message: "hash key variable \(unknown.joined(separator: ", ")) is not known when a member is picked")
        }
        let template = key.soleVariable == .remoteAddr ? nil : key
        guard arguments.count == 2 else { return Self(consistent: false, key: template, keyText: arguments[0]) }
        guard arguments[1] == "consistent" else {
            throw BalancingParameterError(
                argument: 1, message: "invalid parameter \"\(ConfigError.shown(arguments[1]))\" in \"hash\" (only \"consistent\")")
        }
        return Self(consistent: true, key: template, keyText: arguments[0])
    }

    let consistent: Bool
    /// The key when it is not `$remote_addr` (nil: the engine's address text, no template).
    let key: StreamTemplate?
    /// The key as written, for `description`.
    let keyText: String
    /// The summed weight of listed primary members (nginx's `total_weight`), for plain hashing.
    private var primaryWeight = 0
    private var ring = ConsistentHashRing()

    init(consistent: Bool, key: StreamTemplate? = nil, keyText: String = "$remote_addr") {
        self.consistent = consistent
        self.key = key
        self.keyText = key == nil ? "$remote_addr" : keyText
    }

    /// `hash` / `hash consistent` for `$remote_addr` (as before), else with the key.
    var description: String {
        (key == nil ? "hash" : "hash \(keyText)") + (consistent ? " consistent" : "")
    }
    var supportsBackup: Bool { false }
    /// nginx Plus ignores slow_start for hash methods; so do we, and `check` says so.
    var rampsSlowStart: Bool { false }
    var needsClientAddress: Bool { key == nil }
    var pickKey: StreamTemplate? { key }

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
