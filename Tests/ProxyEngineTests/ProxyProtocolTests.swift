import Testing

@testable import ProxyProtocolCodec

@testable import ProxyEngine

@Suite("PROXY protocol: v1 and v2 in, v1 out, byte for byte")
struct ProxyProtocolTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func endpoint(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ port: UInt16) -> ProxyProtocolEndpoint {
        ProxyProtocolEndpoint(address: .v4(a << 24 | b << 16 | c << 8 | d), port: port)
    }

    static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    /// A v2 header as the spec's `struct proxy_hdr_v2` lays it out, followed by `block`.
    static func v2(_ versionCommand: UInt8, _ family: UInt8, _ block: [UInt8], announced: Int? = nil) -> [UInt8] {
        let length = announced ?? block.count
        return Self.signature + [versionCommand, family, UInt8(length >> 8), UInt8(length & 0xFF)] + block
    }

    static func header(_ parse: ProxyProtocol.Parse) -> ProxyProtocolHeader? {
        if case .header(let header) = parse { return header }
        return nil
    }

    static func isInvalid(_ parse: ProxyProtocol.Parse) -> Bool {
        if case .invalid = parse { return true }
        return false
    }

    // MARK: v1

    @Test("the spec's v1 example: TCP4 192.168.0.1 -> 192.168.0.11, 56324 -> 443, the request after it untouched")
    func specExampleV1() {
        let line = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
        let input = Self.bytes(line + "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n")
        let header = Self.header(ProxyProtocol.parse(input))
        #expect(header == ProxyProtocolHeader(
            version: 1, length: line.utf8.count,
            source: Self.endpoint(192, 168, 0, 1, 56324), destination: Self.endpoint(192, 168, 0, 11, 443)))
        #expect(header?.source?.address.text == "192.168.0.1")
    }

    @Test("the spec's longest lines: TCP4 of 56 bytes, TCP6 of 104, UNKNOWN of 107; 108 is refused")
    func longestLines() throws {
        let v4 = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"
        #expect(v4.utf8.count == 56)
        #expect(Self.header(ProxyProtocol.parse(Self.bytes(v4)))?.source == Self.endpoint(255, 255, 255, 255, 65535))
        let full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
        let v6 = "PROXY TCP6 \(full) \(full) 65535 65535\r\n"
        #expect(v6.utf8.count == 104)
        let header = try #require(Self.header(ProxyProtocol.parse(Self.bytes(v6))))
        #expect(header.source == ProxyProtocolEndpoint(address: .v6(.max, .max), port: 65535))
        let unknown = "PROXY UNKNOWN \(full) \(full) 65535 65535\r\n"
        #expect(unknown.utf8.count == 107)
        #expect(ProxyProtocol.parse(Self.bytes(unknown)) == .header(ProxyProtocolHeader(version: 1, length: 107)))
        let tooLong = "PROXY UNKNOWN \(full) \(full) 65535 655350\r\n"
        #expect(ProxyProtocol.parse(Self.bytes(tooLong)) == .invalid(.lineTooLong))
        #expect(ProxyProtocol.parse([UInt8](Self.bytes("PROXY UNKNOWN ")) + [UInt8](repeating: 0x41, count: 93)) == .invalid(.lineTooLong))
    }

    @Test("PROXY UNKNOWN (short form) keeps the connection's addresses")
    func unknown() {
        #expect(ProxyProtocol.parse(Self.bytes("PROXY UNKNOWN\r\nhello")) == .header(ProxyProtocolHeader(version: 1, length: 15)))
        #expect(Self.isInvalid(ProxyProtocol.parse(Self.bytes("PROXY UNKNOWNX\r\n"))))
    }

    @Test("TCP6 addresses: compressed, upper case, a mapped IPv4 tail; shown as RFC 5952 writes them")
    func tcp6() throws {
        let header = try #require(Self.header(ProxyProtocol.parse(Self.bytes("PROXY TCP6 2001:DB8::0:1 ::ffff:192.0.2.1 1 0\r\n"))))
        #expect(header.source == ProxyProtocolEndpoint(address: .v6(0x2001_0db8_0000_0000, 1), port: 1))
        #expect(header.source?.address.text == "2001:db8::1")
        #expect(header.destination?.address.text == "::ffff:192.0.2.1")
        #expect(header.destination?.port == 0)
        let loopback = try #require(Self.header(ProxyProtocol.parse(Self.bytes("PROXY TCP6 ::1 :: 80 81\r\n"))))
        #expect(loopback.source?.address == .v6(0, 1))
        #expect(loopback.source?.address.text == "::1")
        #expect(loopback.destination?.address.text == "::")
        #expect(IPAddress.v6(0x2001_0db8_0000_0001, 0x0000_0000_0001_0000).text == "2001:db8:0:1::1:0")
        #expect(IPAddress.v6(0x0001_0000_0002_0000, 0x0000_0003_0000_0004).text == "1:0:2::3:0:4")
    }

    @Test(
        "v1 lines that do not match the spec exactly are refused",
        arguments: [
            "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\n",  // LF alone
            "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\rX",  // CR alone
            "PROXY TCP4 192.168.0.1  192.168.0.11 56324 443\r\n",  // two spaces
            "PROXY TCP4 192.168.0.01 192.168.0.11 56324 443\r\n",  // leading zero
            "PROXY TCP4 192.168.0.1 192.168.0.11 056324 443\r\n",  // leading zero in a port
            "PROXY TCP4 192.168.0.1 192.168.0.11 65536 443\r\n",  // port out of range
            "PROXY TCP4 192.168.0.256 192.168.0.11 1 443\r\n",  // octet out of range
            "PROXY TCP4 192.168.0 192.168.0.11 1 443\r\n",  // three octets
            "PROXY TCP4 ::1 ::1 1 443\r\n",  // IPv6 under TCP4
            "PROXY TCP6 192.168.0.1 192.168.0.11 1 443\r\n",  // IPv4 under TCP6
            "PROXY TCP6 1::2::3 ::1 1 443\r\n",  // two ::
            "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 443\r\n",  // nine groups
            "PROXY TCP6 1:2:3:4:5:6:7 ::1 1 443\r\n",  // seven groups
            "PROXY TCP6 12345::1 ::1 1 443\r\n",  // five hex digits
            "PROXY TCP6 1:: ::1: 1 443\r\n",  // trailing colon
            "PROXY TCP4 192.168.0.1 192.168.0.11 56324\r\n",  // three fields
            "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443 \r\n",  // trailing space
            "PROXY UDP4 192.168.0.1 192.168.0.11 56324 443\r\n",  // not TCP
            "proxy TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",  // lower case
            "GET / HTTP/1.1\r\n",
        ])
    func refusedV1(_ line: String) {
        #expect(Self.isInvalid(ProxyProtocol.parse(Self.bytes(line))))
    }

    @Test("every proper prefix of a valid header is incomplete, never a header or an error")
    func prefixes() {
        let v1 = Self.bytes("PROXY TCP6 2001:db8::1 2001:db8::2 56324 443\r\n")
        let v2 = Self.v2(0x21, 0x11, [127, 0, 0, 1, 127, 0, 0, 2, 0x1F, 0x90, 0x00, 0x50, 0x04, 0x00, 0x01, 0xAA])
        for whole in [v1, v2] {
            for count in 0..<whole.count {
                #expect(ProxyProtocol.parse(Array(whole[0..<count])) == .incomplete, "prefix of \(count) bytes")
            }
            #expect(Self.header(ProxyProtocol.parse(whole))?.length == whole.count)
        }
        #expect(ProxyProtocol.parse(Self.bytes("PROXX")) == .invalid(.notProxyProtocol))
        #expect(ProxyProtocol.parse([0x0D, 0x0A, 0x0D, 0x0B]) == .invalid(.notProxyProtocol))
    }

    // MARK: v2

    @Test("v2 PROXY TCP over IPv4: the 12-byte address block, ports in network order, TLVs skipped")
    func v2IPv4() {
        // The nginx-tests TLVs (stream_proxy_protocol2_tlv.t): ALPN "ALPN1" and a custom 0xae.
        let tlvs: [UInt8] = [0x01, 0x00, 0x05] + Self.bytes("ALPN1") + [0xAE, 0x00, 0x00]
        let block: [UInt8] = [192, 0, 2, 1, 192, 0, 2, 2, 0x04, 0xD2, 0x16, 0x2E] + tlvs
        let input = Self.v2(0x21, 0x11, block) + Self.bytes("client data")
        #expect(ProxyProtocol.parse(input) == .header(ProxyProtocolHeader(
            version: 2, length: 16 + block.count,
            source: Self.endpoint(192, 0, 2, 1, 1234), destination: Self.endpoint(192, 0, 2, 2, 5678))))
    }

    @Test("v2 PROXY TCP over IPv6: the 36-byte address block")
    func v2IPv6() {
        let source: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
        let destination: [UInt8] = [UInt8](repeating: 0, count: 15) + [1]
        let input = Self.v2(0x21, 0x21, source + destination + [0xFF, 0xFF, 0x00, 0x01])
        let header = Self.header(ProxyProtocol.parse(input))
        #expect(header?.source == ProxyProtocolEndpoint(address: .v6(0x2001_0db8_0000_0000, 1), port: 65535))
        #expect(header?.destination == ProxyProtocolEndpoint(address: .v6(0, 1), port: 1))
        #expect(header?.length == 52)
    }

    @Test("v2 LOCAL, UNSPEC, UDP and UNIX keep the connection's addresses; the whole block is skipped")
    func v2KeepsAddresses() {
        let junk = [UInt8](repeating: 0xEE, count: 7)
        for (command, family) in [(UInt8(0x20), UInt8(0x11)), (0x21, 0x00), (0x21, 0x12), (0x21, 0x31), (0x20, 0x00)] {
            #expect(
                ProxyProtocol.parse(Self.v2(command, family, junk)) == .header(ProxyProtocolHeader(version: 2, length: 23)),
                "command \(command) family \(family)")
        }
    }

    @Test("v2 headers the spec tells a receiver to drop")
    func v2Refused() {
        let block: [UInt8] = [192, 0, 2, 1, 192, 0, 2, 2, 0x04, 0xD2, 0x16, 0x2E]
        #expect(ProxyProtocol.parse(Self.v2(0x11, 0x11, block)) == .invalid(.badVersion(1)))
        #expect(ProxyProtocol.parse(Self.v2(0x22, 0x11, block)) == .invalid(.badCommand(2)))
        #expect(ProxyProtocol.parse(Self.v2(0x21, 0x41, block)) == .invalid(.badFamily(0x41)))
        #expect(ProxyProtocol.parse(Self.v2(0x21, 0x13, block)) == .invalid(.badFamily(0x13)))
        #expect(ProxyProtocol.parse(Self.v2(0x21, 0x11, Array(block[0..<11]))) == .invalid(.addressesTooShort(11)))
        #expect(ProxyProtocol.parse(Self.v2(0x21, 0x21, block)) == .invalid(.addressesTooShort(12)))
        #expect(ProxyProtocol.parse(Self.v2(0x21, 0x11, block + [0x01, 0x00])) == .invalid(.badTLV(28)))
        #expect(ProxyProtocol.parse(Self.v2(0x21, 0x11, block + [0x01, 0x00, 0x02, 0x41])) == .invalid(.badTLV(28)))
        #expect(ProxyProtocol.parse(Self.v2(0x21, 0x11, [], announced: 4081)) == .invalid(.tooLarge(4097)))
        // At the limit the header is only incomplete: up to 4096 bytes are waited for.
        #expect(ProxyProtocol.parse(Self.v2(0x21, 0x11, [], announced: 4080)) == .incomplete)
    }

    // MARK: Writing

    @Test("v1 out as nginx writes it: TCP4 for two IPv4 addresses, the port after each")
    func writesV1() {
        let line = ProxyProtocol.v1Line(source: Self.endpoint(127, 0, 0, 1, 40000), destination: Self.endpoint(127, 0, 0, 1, 8080))
        #expect(line == Self.bytes("PROXY TCP4 127.0.0.1 127.0.0.1 40000 8080\r\n"))
        let spec = ProxyProtocol.v1Line(
            source: Self.endpoint(192, 168, 0, 1, 56324), destination: Self.endpoint(192, 168, 0, 11, 443))
        #expect(spec == Self.bytes("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"))
    }

    @Test("v1 out for IPv6, and for mixed families as TCP6 with the mapped IPv4 form; the longest fits its bound")
    func writesV1IPv6() {
        let six = ProxyProtocolEndpoint(address: .v6(0x2001_0db8_0000_0000, 1), port: 443)
        #expect(
            ProxyProtocol.v1Line(source: six, destination: ProxyProtocolEndpoint(address: .v6(0, 1), port: 8080))
                == Self.bytes("PROXY TCP6 2001:db8::1 ::1 443 8080\r\n"))
        #expect(
            ProxyProtocol.v1Line(source: Self.endpoint(192, 0, 2, 1, 1234), destination: six)
                == Self.bytes("PROXY TCP6 ::ffff:192.0.2.1 2001:db8::1 1234 443\r\n"))
        let full = ProxyProtocolEndpoint(address: .v6(.max, .max), port: 65535)
        #expect(ProxyProtocol.v1Line(source: full, destination: full).count == ProxyProtocol.v1MaxWritten)
    }

    @Test("what is written reads back as the same endpoints")
    func roundTrip() throws {
        let pairs: [(ProxyProtocolEndpoint, ProxyProtocolEndpoint)] = [
            (Self.endpoint(10, 0, 0, 1, 0), Self.endpoint(0, 0, 0, 0, 65535)),
            (ProxyProtocolEndpoint(address: .v6(0xfe80_0000_0000_0000, 0x0202_b3ff_fe1e_8329), port: 7),
             ProxyProtocolEndpoint(address: .v6(0, 0xFFFF_0A00_0001), port: 8)),
        ]
        for (source, destination) in pairs {
            let line = ProxyProtocol.v1Line(source: source, destination: destination)
            let header = try #require(Self.header(ProxyProtocol.parse(line)))
            #expect(header.source == source)
            #expect(header.destination == destination)
            #expect(header.length == line.count)
        }
    }
}
