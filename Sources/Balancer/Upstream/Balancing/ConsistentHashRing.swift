/// nginx's `hash $remote_addr consistent` (ketama): 160 points per weight unit per member, placed by
/// CRC-32 exactly as `ngx_stream_upstream_update_chash` does, so a member leaving only moves the
/// clients whose points were its own.
struct ConsistentHashRing: Sendable {
    struct Point: Sendable {
        var hash: UInt32
        var member: Int32
    }

    static let pointsPerWeight = 160
    private(set) var points: [Point] = []

    init() {}

    /// Places the listed primary members (draining and `down` ones too: nginx keeps them on the
    /// ring and steps past them, so their clients come back when they return).
    init(members: [PoolMember]) {
        var points: [Point] = []
        points.reserveCapacity(members.reduce(0) { $0 + ($1.peer.listed && !$1.peer.backup ? $1.peer.weight : 0) } * Self.pointsPerWeight)
        for (index, member) in members.enumerated() where member.peer.listed && !member.peer.backup {
            let (host, port) = Self.split(member.address)
            var base = CRC32()
            base.update(host)
            base.update(byte: 0)
            base.update(port)
            var previous: UInt32 = 0
            for _ in 0..<(member.peer.weight * Self.pointsPerWeight) {
                var crc = base
                // nginx hashes the previous point's value as its little-endian bytes.
                crc.update(byte: UInt8(truncatingIfNeeded: previous))
                crc.update(byte: UInt8(truncatingIfNeeded: previous >> 8))
                crc.update(byte: UInt8(truncatingIfNeeded: previous >> 16))
                crc.update(byte: UInt8(truncatingIfNeeded: previous >> 24))
                let hash = crc.value
                points.append(Point(hash: hash, member: Int32(index)))
                previous = hash
            }
        }
        // Stable order for equal hashes keeps the ring deterministic across rebuilds.
        points.sort { $0.hash != $1.hash ? $0.hash < $1.hash : $0.member < $1.member }
        var unique: [Point] = []
        unique.reserveCapacity(points.count)
        for point in points where unique.last?.hash != point.hash {
            unique.append(point)
        }
        self.points = unique
    }

    /// nginx splits `server` at the last `:` followed only by digits into host and port.
    private static func split(_ address: String) -> (Substring.UTF8View, Substring.UTF8View) {
        let whole = Substring(address)
        if let colon = whole.lastIndex(of: ":"),
           whole[whole.index(after: colon)...].allSatisfy({ $0.isASCII && $0.isNumber }) {
            return (whole[..<colon].utf8, whole[whole.index(after: colon)...].utf8)
        }
        return (whole.utf8, Substring().utf8)
    }

    /// The index of the first point at or after `hash`, wrapping to 0 (nginx's find_chash_point).
    func firstPoint(atOrAfter hash: UInt32) -> Int {
        var low = 0
        var high = points.count
        while low < high {
            let middle = (low + high) / 2
            if hash > points[middle].hash {
                low = middle + 1
            } else if hash < points[middle].hash {
                high = middle
            } else {
                return middle
            }
        }
        return low
    }

    /// Picks for `key`; walks the ring past ineligible members, then falls back to round robin.
    func pick(_ members: inout [PoolMember], key: String, context: PickContext) -> Int? {
        guard !points.isEmpty else { return RoundRobinBalancing.pick(&members, backup: false, context: context) }
        var crc = CRC32()
        crc.updateUTF8(key)
        var position = firstPoint(atOrAfter: crc.value)
        var tries = 0
        while true {
            let index = Int(points[position % points.count].member)
            if context.isEligible(members, index) {
                // nginx runs a round robin pass among the peers of this point; with one peer per point
                // that pass only gives back a unit of effective weight.
                if members[index].peer.effectiveWeight < members[index].peer.weight {
                    members[index].peer.effectiveWeight += 1
                }
                return index
            }
            position += 1
            tries += 1
            if tries > HashBalancing.maximumTries {
                return RoundRobinBalancing.pick(&members, backup: false, context: context)
            }
        }
    }
}
