/// An IPv4 or IPv6 address as plain bits (no allocation, no system types), for the PROXY
/// protocol, access rules and connection-limit keys.
public enum IPAddress: Sendable, Equatable, Hashable {
    /// In host order (`192.0.2.1` is 0xC000_0201).
    case v4(UInt32)
    /// The 128 bits, high half first.
    case v6(UInt64, UInt64)

    /// The address as `$proxy_protocol_addr` shows it: dotted IPv4, or IPv6 as RFC 5952 writes
    /// it (lower case, the longest run of two or more zero groups as `::`, a mapped IPv4
    /// address as `::ffff:192.0.2.1`).
    public var text: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        case .v6(let high, let low):
            if high == 0 && low >> 32 == 0xFFFF {
                return "::ffff:" + IPAddress.v4(UInt32(truncatingIfNeeded: low)).text
            }
            let groups = (0..<8).map { index -> UInt16 in
                let half = index < 4 ? high : low
                return UInt16(truncatingIfNeeded: half >> (16 * (3 - UInt64(index % 4))))
            }
            // The first longest run of at least two zero groups.
            var best = (start: -1, count: 0)
            var index = 0
            while index < 8 {
                var end = index
                while end < 8 && groups[end] == 0 { end += 1 }
                if end - index >= 2 && end - index > best.count { best = (index, end - index) }
                index = end + 1
            }
            func hex(_ range: Range<Int>) -> String {
                range.map { String(groups[$0], radix: 16) }.joined(separator: ":")
            }
            guard best.start >= 0 else { return hex(0..<8) }
            return hex(0..<best.start) + "::" + hex((best.start + best.count)..<8)
        }
    }

    /// The same address in IPv6 form (an IPv4 address as `::ffff:a.b.c.d`).
    public var asIPv6: IPAddress {
        switch self {
        case .v4(let value): return .v6(0, 0xFFFF_0000_0000 | UInt64(value))
        case .v6: return self
        }
    }

    /// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) as the IPv4 address it stands for, as nginx's
    /// access and realip modules match it; any other address unchanged.
    public var unmapped: IPAddress {
        if case .v6(0, let low) = self, low >> 32 == 0xFFFF {
            return .v4(UInt32(truncatingIfNeeded: low))
        }
        return self
    }

    /// A numeric address in either family (`192.0.2.1`, `2001:db8::1`): strict dotted IPv4 (no
    /// leading zeroes) or IPv6; nil for anything else.
    public init?(text: String) {
        var text = text
        let parsed = text.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            return bytes.contains(0x3A) ? Self.parseV6(bytes) : Self.parseV4(bytes)
        }
        guard let parsed else { return nil }
        self = parsed
    }

    /// The address's bytes in network order (4 or 16), as `$binary_remote_addr` holds them.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let high, let low):
            return (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? high : low) >> (56 - 8 * UInt64($0 % 8))) }
        }
    }

    // MARK: Parsing

    package static func parseV4(_ bytes: UnsafeRawBufferPointer) -> IPAddress? {
        Self.ipv4Value(bytes).map { .v4($0) }
    }

    private static func ipv4Value(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        var start = 0
        for index in 0...bytes.count where index == bytes.count || bytes[index] == 0x2E {
            guard parts < 4,
                let part = Self.decimal(UnsafeRawBufferPointer(rebasing: bytes[start..<index]), maxDigits: 3, max: 255)
            else { return nil }
            value = value << 8 | UInt32(part)
            parts += 1
            start = index + 1
        }
        return parts == 4 ? value : nil
    }

    /// Groups of one to four hex digits, at most one `::` standing for one or more zero groups, and
    /// optionally a dotted IPv4 address as the last 32 bits (as inet_ntop writes `::ffff:192.0.2.1`,
    /// which nginx's own PROXY lines carry for mapped addresses).
    package static func parseV6(_ bytes: UnsafeRawBufferPointer) -> IPAddress? {
        guard bytes.count >= 2, bytes.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var compressed = false
        var index = 0
        if bytes[0] == 0x3A {
            guard bytes[1] == 0x3A else { return nil }
            compressed = true
            index = 2
        }
        while index < bytes.count {
            var end = index
            while end < bytes.count && bytes[end] != 0x3A { end += 1 }
            let group = UnsafeRawBufferPointer(rebasing: bytes[index..<end])
            if end == bytes.count, group.contains(0x2E) {
                // A dotted IPv4 tail: the last two groups.
                guard let value = Self.ipv4Value(group) else { return nil }
                if compressed { tail += [UInt16(value >> 16), UInt16(value & 0xFFFF)] } else { head += [UInt16(value >> 16), UInt16(value & 0xFFFF)] }
                index = end
                break
            }
            guard let value = Self.hexGroup(group) else { return nil }
            if compressed { tail.append(value) } else { head.append(value) }
            index = end
            guard index < bytes.count else { break }
            // At a colon: a second one right after is the one `::`.
            index += 1
            if index < bytes.count && bytes[index] == 0x3A {
                guard !compressed else { return nil }
                compressed = true
                index += 1
            } else if index == bytes.count {
                return nil  // a trailing single colon
            }
            guard head.count + tail.count <= 8 else { return nil }
        }
        let groups = head.count + tail.count
        guard compressed ? groups <= 7 : groups == 8 else { return nil }
        let all = head + [UInt16](repeating: 0, count: 8 - groups) + tail
        var high: UInt64 = 0
        var low: UInt64 = 0
        for position in 0..<4 {
            high = high << 16 | UInt64(all[position])
            low = low << 16 | UInt64(all[position + 4])
        }
        return .v6(high, low)
    }

    private static func hexGroup(_ bytes: UnsafeRawBufferPointer) -> UInt16? {
        guard !bytes.isEmpty, bytes.count <= 4 else { return nil }
        var value: UInt16 = 0
        for byte in bytes {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    /// A decimal number of at most `maxDigits` digits and at most `max`, with no leading zero.
    package static func decimal(_ bytes: UnsafeRawBufferPointer, maxDigits: Int, max: Int) -> Int? {
        guard !bytes.isEmpty, bytes.count <= maxDigits, bytes.count == 1 || bytes[0] != 0x30 else { return nil }
        var value = 0
        for byte in bytes {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value <= max ? value : nil
    }
}
