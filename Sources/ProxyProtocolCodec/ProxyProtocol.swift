/// The PROXY protocol (haproxy's doc/proxy-protocol.txt): version 1 (one text line) and version 2
/// (binary) read from a load balancer in front, version 1 written to a member as nginx's
/// `ngx_proxy_protocol_write` does. Pure: no I/O and no imports, so the parser is fuzzed alone, and
/// chat-server reads headers with it without linking the proxy engine.
///
/// Reading follows the spec strictly where nginx is lenient: a v1 address must be a canonical IPv4
/// (no leading zeroes) or IPv6 address of the family named, a port has no leading zeroes, the line
/// ends with CRLF within 107 bytes (a lone CR or LF is an error), and a v2 header's command, family
/// and transport must be assigned values and its TLVs must fit the announced length.
public enum ProxyProtocol {
    /// The longest header read (nginx's `NGX_PROXY_PROTOCOL_MAX_HEADER`): a v2 header announcing
    /// more is refused, so reading one costs at most this much.
    public static let maxHeader = 4096
    /// The longest v1 line, CRLF included.
    public static let v1MaxLine = 107
    /// The longest v1 line this side writes (TCP6 with two full addresses and ports).
    public static let v1MaxWritten = 104

    /// What the bytes received so far are.
    public enum Parse: Sendable, Equatable {
        /// A valid prefix: wait for more bytes.
        case incomplete
        case header(ProxyProtocolHeader)
        case invalid(ProxyProtocolError)
    }

    /// Parses the start of a connection's input. Bytes after the header are not looked at: the
    /// header's `length` says where the client's own data starts.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Parse {
        let signature: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A)
        let matchesV2 = withUnsafeBytes(of: signature) { sig in
            (0..<min(bytes.count, 12)).allSatisfy { bytes[$0] == sig[$0] }
        }
        if matchesV2 && !bytes.isEmpty {
            return bytes.count < 16 ? .incomplete : Self.parseV2(bytes)
        }
        let proxy: [UInt8] = Array("PROXY ".utf8)
        guard (0..<min(bytes.count, 6)).allSatisfy({ bytes[$0] == proxy[$0] }) else {
            return .invalid(.notProxyProtocol)
        }
        return Self.parseV1(bytes)
    }

    /// `parse` over an array (tests, fuzzing).
    public static func parse(_ bytes: [UInt8]) -> Parse {
        bytes.withUnsafeBytes { Self.parse($0) }
    }

    // MARK: Version 1

    private static func parseV1(_ bytes: UnsafeRawBufferPointer) -> Parse {
        // The line ends at the first CR, which must be followed by LF; a lone LF is an error.
        var end = -1
        for index in 0..<min(bytes.count, Self.v1MaxLine) {
            if bytes[index] == 0x0A {
                return .invalid(.badLine("a line feed without a carriage return"))
            }
            if bytes[index] == 0x0D {
                // Its LF would be byte 108.
                guard index + 2 <= Self.v1MaxLine else { return .invalid(.lineTooLong) }
                guard index + 1 < bytes.count else { return .incomplete }
                guard bytes[index + 1] == 0x0A else {
                    return .invalid(.badLine("a carriage return without a line feed"))
                }
                end = index
                break
            }
        }
        guard end >= 0 else {
            return bytes.count < Self.v1MaxLine ? .incomplete : .invalid(.lineTooLong)
        }
        let line = UnsafeRawBufferPointer(rebasing: bytes[6..<end])
        let length = end + 2
        if Self.hasPrefix(line, "UNKNOWN") && (line.count == 7 || line[7] == 0x20) {
            // The rest of the line is ignored: the connection's own addresses stand.
            return .header(ProxyProtocolHeader(version: 1, length: length))
        }
        let isV4 = Self.hasPrefix(line, "TCP4 ")
        guard isV4 || Self.hasPrefix(line, "TCP6 ") else {
            return .invalid(.badLine("the protocol is not TCP4, TCP6 or UNKNOWN"))
        }
        var fields: [UnsafeRawBufferPointer] = []
        var start = 5
        for index in 5...line.count where index == line.count || line[index] == 0x20 {
            fields.append(UnsafeRawBufferPointer(rebasing: line[start..<index]))
            start = index + 1
        }
        guard fields.count == 4, fields.allSatisfy({ !$0.isEmpty }) else {
            return .invalid(.badLine("not four fields separated by single spaces"))
        }
        let parseAddress = isV4 ? IPAddress.parseV4 : IPAddress.parseV6
        guard let source = parseAddress(fields[0]), let destination = parseAddress(fields[1]) else {
            return .invalid(.badLine(isV4 ? "an address is not a canonical IPv4 address" : "an address is not an IPv6 address"))
        }
        guard let sourcePort = Self.parsePort(fields[2]), let destinationPort = Self.parsePort(fields[3]) else {
            return .invalid(.badLine("a port is not a number from 0 to 65535 without leading zeroes"))
        }
        return .header(
            ProxyProtocolHeader(
                version: 1, length: length,
                source: ProxyProtocolEndpoint(address: source, port: sourcePort),
                destination: ProxyProtocolEndpoint(address: destination, port: destinationPort)))
    }

    private static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard bytes.count >= count else { return false }
        let start = prefix.utf8Start
        return (0..<count).allSatisfy { bytes[$0] == start[$0] }
    }

    private static func parsePort(_ bytes: UnsafeRawBufferPointer) -> UInt16? {
        IPAddress.decimal(bytes, maxDigits: 5, max: 65535).map { UInt16($0) }
    }

    // MARK: Version 2

    private static func parseV2(_ bytes: UnsafeRawBufferPointer) -> Parse {
        let version = bytes[12] >> 4
        guard version == 2 else { return .invalid(.badVersion(Int(version))) }
        let command = bytes[12] & 0x0F
        guard command <= 1 else { return .invalid(.badCommand(Int(command))) }
        let family = bytes[13] >> 4
        let transport = bytes[13] & 0x0F
        guard family <= 3, transport <= 2 else { return .invalid(.badFamily(Int(bytes[13]))) }
        let length = 16 + (Int(bytes[14]) << 8 | Int(bytes[15]))
        guard length <= Self.maxHeader else { return .invalid(.tooLarge(length)) }
        guard bytes.count >= length else { return .incomplete }
        // LOCAL (a health check from the proxy itself), or an unspecified or UNIX or datagram
        // connection: the block is skipped and the connection's own addresses stand.
        guard command == 1, transport == 1, family == 1 || family == 2 else {
            return .header(ProxyProtocolHeader(version: 2, length: length))
        }
        let addressLength = family == 1 ? 12 : 36
        guard length - 16 >= addressLength else { return .invalid(.addressesTooShort(length - 16)) }
        // TLVs: type, 16-bit length, value; each must end within the header.
        var offset = 16 + addressLength
        while offset < length {
            guard offset + 3 <= length else { return .invalid(.badTLV(offset)) }
            let valueLength = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            guard offset + 3 + valueLength <= length else { return .invalid(.badTLV(offset)) }
            offset += 3 + valueLength
        }
        let source: IPAddress
        let destination: IPAddress
        let ports: Int
        if family == 1 {
            source = .v4(Self.bigEndian32(bytes, 16))
            destination = .v4(Self.bigEndian32(bytes, 20))
            ports = 24
        } else {
            source = .v6(Self.bigEndian64(bytes, 16), Self.bigEndian64(bytes, 24))
            destination = .v6(Self.bigEndian64(bytes, 32), Self.bigEndian64(bytes, 40))
            ports = 48
        }
        return .header(
            ProxyProtocolHeader(
                version: 2, length: length,
                source: ProxyProtocolEndpoint(address: source, port: UInt16(bytes[ports]) << 8 | UInt16(bytes[ports + 1])),
                destination: ProxyProtocolEndpoint(
                    address: destination, port: UInt16(bytes[ports + 2]) << 8 | UInt16(bytes[ports + 3]))))
    }

    private static func bigEndian32(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 << 8 | UInt32(bytes[offset + $1]) }
    }

    private static func bigEndian64(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 << 8 | UInt64(bytes[offset + $1]) }
    }

    // MARK: Writing version 1

    /// Writes the v1 line for a connection from `source` to `destination` into `buffer` (at least
    /// `v1MaxWritten` bytes) and returns its length. Two IPv4 addresses give `TCP4`; otherwise
    /// `TCP6`, an IPv4 address written as its mapped IPv6 form (`::ffff:192.0.2.1`) so the line
    /// names one family, as the spec requires.
    public static func writeV1(
        source: ProxyProtocolEndpoint, destination: ProxyProtocolEndpoint, into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        var line = "PROXY "
        if case .v4 = source.address, case .v4 = destination.address {
            line += "TCP4 "
        } else {
            line += "TCP6 "
        }
        let both = line.hasSuffix("TCP4 ")
        line += both ? source.address.text : source.address.asIPv6.text
        line += " "
        line += both ? destination.address.text : destination.address.asIPv6.text
        line += " \(source.port) \(destination.port)\r\n"
        let utf8 = line.utf8
        precondition(utf8.count <= buffer.count, "PROXY line longer than its buffer")
        _ = buffer.initializeMemory(as: UInt8.self, from: utf8)
        return utf8.count
    }

    /// The v1 line as bytes (tests, and where a buffer is not at hand).
    public static func v1Line(source: ProxyProtocolEndpoint, destination: ProxyProtocolEndpoint) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.v1MaxWritten) { buffer, count in
            count = Self.writeV1(source: source, destination: destination, into: UnsafeMutableRawBufferPointer(buffer))
        }
    }
}

/// A PROXY protocol header read from a connection.
public struct ProxyProtocolHeader: Sendable, Equatable {
    public var version: Int
    /// Its length in bytes: the client's own data starts after it.
    public var length: Int
    /// The original client, nil when the header says to keep the connection's own addresses
    /// (v1 `UNKNOWN`, v2 `LOCAL` or a family or transport other than TCP over IPv4/IPv6).
    public var source: ProxyProtocolEndpoint?
    /// The address the original client connected to.
    public var destination: ProxyProtocolEndpoint?

    public init(version: Int, length: Int, source: ProxyProtocolEndpoint? = nil, destination: ProxyProtocolEndpoint? = nil) {
        self.version = version
        self.length = length
        self.source = source
        self.destination = destination
    }
}

/// An IP address and TCP port as the PROXY protocol carries them, inline (no allocation).
public struct ProxyProtocolEndpoint: Sendable, Equatable, Hashable {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }
}

/// Why a PROXY protocol header was refused (nginx logs these as "broken header").
public enum ProxyProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The input starts with neither `PROXY ` nor the v2 signature.
    case notProxyProtocol
    /// No CRLF within the first 107 bytes of a v1 header.
    case lineTooLong
    case badLine(String)
    case badVersion(Int)
    case badCommand(Int)
    /// The v2 family and transport byte holds an unassigned value.
    case badFamily(Int)
    /// A v2 header announcing more than `ProxyProtocol.maxHeader` bytes.
    case tooLarge(Int)
    /// A v2 PROXY header whose length does not hold its addresses.
    case addressesTooShort(Int)
    /// A v2 TLV that runs past the header's end, at this offset.
    case badTLV(Int)

    public var description: String {
        switch self {
        case .notProxyProtocol: return "not a PROXY protocol header"
        case .lineTooLong: return "PROXY protocol v1 line without CRLF in its first 107 bytes"
        case .badLine(let reason): return "broken PROXY protocol v1 line: \(reason)"
        case .badVersion(let version): return "unknown PROXY protocol version \(version)"
        case .badCommand(let command): return "unknown PROXY protocol v2 command \(command)"
        case .badFamily(let byte): return "unknown PROXY protocol v2 family and transport 0x\(String(byte, radix: 16))"
        case .tooLarge(let length): return "PROXY protocol v2 header of \(length) bytes (at most \(ProxyProtocol.maxHeader))"
        case .addressesTooShort(let length): return "PROXY protocol v2 address block of \(length) bytes is too short"
        case .badTLV(let offset): return "PROXY protocol v2 TLV at byte \(offset) runs past the header"
        }
    }
}
