import ProxyProtocolCodec

/// An address block (`192.0.2.0/24`, `2001:db8::/32`, or one address) as nginx's `ngx_ptocidr`
/// reads it for `allow`, `deny` and `set_real_ip_from`.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The block's first address (the bits past the prefix cleared).
    public let address: IPAddress
    public let prefixLength: Int
    /// The text named bits past the prefix (`192.0.2.1/24`): nginx warns that they are meaningless
    /// and clears them, as here.
    public let hadHostBits: Bool

    /// Parses `ADDRESS` or `ADDRESS/LENGTH`; nil when either part is malformed or the length is
    /// past the family's width.
    public init?(text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(text: String(parts[0])) else { return nil }
        let width = address.width
        var length = width
        if parts.count == 2 {
            var digits = String(parts[1])
            let parsed = digits.withUTF8 { IPAddress.decimal(UnsafeRawBufferPointer($0), maxDigits: 3, max: width) }
            guard let parsed else { return nil }
            length = parsed
        }
        self.prefixLength = length
        self.address = address.masked(to: length)
        self.hadHostBits = self.address != address
    }

    /// Whether `candidate` is in the block. An IPv4-mapped IPv6 address counts as its IPv4
    /// address, as in nginx's `ngx_cidr_match` and access module; families otherwise never match.
    public func contains(_ candidate: IPAddress) -> Bool {
        let candidate = candidate.unmapped
        guard candidate.width == self.address.width else { return false }
        return candidate.masked(to: self.prefixLength) == self.address
    }

    public var description: String { "\(self.address.text)/\(self.prefixLength)" }
}

extension IPAddress {
    /// 32 or 128.
    var width: Int {
        if case .v4 = self { return 32 }
        return 128
    }

    /// The address with every bit past the first `length` cleared.
    func masked(to length: Int) -> IPAddress {
        // The first `bits` bits of 64 set.
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? .max : .max << UInt64(64 - bits) }
        switch self {
        case .v4(let value):
            return .v4(value & UInt32(truncatingIfNeeded: mask(length) >> 32))
        case .v6(let high, let low):
            return .v6(high & mask(length), low & mask(length - 64))
        }
    }
}
