/// nginx's plain `hash $remote_addr` (`ngx_stream_upstream_get_hash_peer`).
///
/// The key's CRC-32 picks a slot in the weighted member list (Cache::Memcached compatible); an
/// ineligible member makes it rehash with a counter prefix, and after 20 misses round robin takes over.
enum HashPicker {
    static let maximumTries = 20

    /// `primaryWeight` is the summed weight of listed primary members (nginx's `total_weight`).
    static func pick(_ members: inout [UpstreamMember], key: String, primaryWeight: Int, context: PickContext) -> Int? {
        guard primaryWeight > 0 else { return RoundRobinPicker.pick(&members, backup: false, context: context) }
        var hash: UInt64 = 0
        var tries = 0
        var rehash = 0
        while true {
            var crc = CRC32()
            if rehash > 0 {
                updateDecimal(&crc, rehash)
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
            if tries > maximumTries {
                return RoundRobinPicker.pick(&members, backup: false, context: context)
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

extension CRC32 {
    /// Feeds a string's UTF-8 bytes without copying them when the string is native.
    mutating func updateUTF8(_ text: String) {
        var text = text
        text.withUTF8 { update($0) }
    }
}
