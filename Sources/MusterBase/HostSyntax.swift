/// What a member record's `host` may be: an IPv4 dotted quad, an IPv6 address without brackets,
/// or a DNS name of RFC 1123 labels. Nothing else: no brackets, no `host:port`, no zone index,
/// no spaces, control characters or non-ASCII text.
///
/// The rules are strict so that the host shown (in logs, `balancer members`) is the host dialled:
/// a NUL would cut the C string the resolver sees, and `inet_aton` reads `010.1`, `0x7f.1` or
/// `2130706433` as IPv4 addresses, so a name whose last label is a number is not a name (a
/// top-level domain is never all-numeric, RFC 3696 §2) and must be a valid dotted quad instead.
public enum HostSyntax {
    /// RFC 1035's limit on a name's text form (without a trailing dot).
    public static let maximumNameLength = 253

    /// Whether `host` may be dialled as a member's host.
    public static func isValidMemberHost(_ host: String) -> Bool {
        let bytes = Array(host.utf8)
        return isIPv4(bytes) || isIPv6(bytes) || isDNSName(bytes)
    }

    /// A dotted quad: four decimal numbers 0–255, without leading zeros.
    public static func isIPv4(_ host: String) -> Bool { isIPv4(Array(host.utf8)) }

    /// An IPv6 address in RFC 4291 text form (`::1`, `2001:db8::7`, `::ffff:10.0.0.1`), no brackets.
    public static func isIPv6(_ host: String) -> Bool { isIPv6(Array(host.utf8)) }

    /// A DNS name of RFC 1123 labels (letters, digits, inner hyphens; 1–63 each; 253 in all), not
    /// ending in a numeric label.
    public static func isDNSName(_ host: String) -> Bool { isDNSName(Array(host.utf8)) }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
    }

    static func isLetter(_ byte: UInt8) -> Bool { (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) }

    static func isIPv4(_ bytes: some Collection<UInt8>) -> Bool {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(isDigit) else { return false }
            if part.count > 1, part.first == UInt8(ascii: "0") { return false }
            let value = part.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard value <= 255 else { return false }
        }
        return true
    }

    static func isIPv6(_ bytes: [UInt8]) -> Bool {
        guard (2...45).contains(bytes.count), bytes.contains(UInt8(ascii: ":")) else { return false }
        // Split at "::" (at most one).
        var head: ArraySlice<UInt8> = bytes[...]
        var tail: ArraySlice<UInt8>? = nil
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            if bytes[index] == UInt8(ascii: ":"), bytes[index + 1] == UInt8(ascii: ":") {
                guard tail == nil else { return false }
                head = bytes[..<index]
                tail = bytes[(index + 2)...]
                index += 2
                continue
            }
            index += 1
        }
        guard let headGroups = groups(head, allowsIPv4: tail == nil) else { return false }
        if let tail {
            guard let tailGroups = groups(tail, allowsIPv4: true) else { return false }
            // "::" stands for at least one zero group.
            return headGroups + tailGroups <= 7
        }
        return headGroups == 8
    }

    /// How many 16-bit groups `part` holds (`a:b:c`, an IPv4 tail counting two), or nil if it is
    /// not such a list. An empty part holds none.
    private static func groups(_ part: ArraySlice<UInt8>, allowsIPv4: Bool) -> Int? {
        if part.isEmpty { return 0 }
        let pieces = part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var count = 0
        for (position, piece) in pieces.enumerated() {
            if position == pieces.count - 1, allowsIPv4, piece.contains(UInt8(ascii: ".")) {
                guard isIPv4(piece) else { return nil }
                count += 2
            } else {
                guard (1...4).contains(piece.count), piece.allSatisfy(isHexDigit) else { return nil }
                count += 1
            }
        }
        return count
    }

    static func isDNSName(_ bytes: [UInt8]) -> Bool {
        guard (1...maximumNameLength).contains(bytes.count) else { return false }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.count),
                label.allSatisfy({ isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") }),
                label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-")
            else { return false }
        }
        guard let last = labels.last else { return false }
        return !isNumericLabel(last)
    }

    /// A label `inet_aton` would read as a number: decimal, or hexadecimal with `0x`.
    private static func isNumericLabel(_ label: ArraySlice<UInt8>) -> Bool {
        if label.allSatisfy(isDigit) { return true }
        if label.count >= 2, label.first == UInt8(ascii: "0"),
            label.dropFirst().first == UInt8(ascii: "x") || label.dropFirst().first == UInt8(ascii: "X"),
            label.dropFirst(2).allSatisfy(isHexDigit)
        {
            return true
        }
        return false
    }
}
