import ProxyProtocolCodec
import Testing

@testable import ProxyEngine

@Suite("Access control: CIDR blocks, allow/deny in order, connection-limit zones")
struct AccessControlTests {
    static func address(_ text: String) -> IPAddress { IPAddress(text: text)! }

    static func list(_ rules: [(Bool, String?)]) -> AccessList {
        AccessList(rules.map { AccessList.Rule(allows: $0.0, block: $0.1.map { CIDR(text: $0)! }) })
    }

    @Test("CIDR blocks: prefix lengths, one address, host bits cleared and noted, IPv4-mapped clients")
    func cidr() throws {
        let block = try #require(CIDR(text: "192.0.2.0/24"))
        #expect(block.contains(Self.address("192.0.2.255")))
        #expect(!block.contains(Self.address("192.0.3.0")))
        #expect(block.contains(Self.address("::ffff:192.0.2.7")))
        #expect(!block.contains(Self.address("2001:db8::1")))
        #expect(!block.hadHostBits)
        let noisy = try #require(CIDR(text: "192.0.2.1/24"))
        #expect(noisy.hadHostBits && noisy.address == Self.address("192.0.2.0"))
        let one = try #require(CIDR(text: "10.1.2.3"))
        #expect(one.prefixLength == 32 && one.contains(Self.address("10.1.2.3")) && !one.contains(Self.address("10.1.2.4")))
        let six = try #require(CIDR(text: "2001:db8:8000::/33"))
        #expect(six.contains(Self.address("2001:db8:ffff::1")))
        #expect(!six.contains(Self.address("2001:db8:7fff::1")))
        #expect(CIDR(text: "::/0")?.contains(Self.address("::1")) == true)
        #expect(CIDR(text: "0.0.0.0/0")?.contains(Self.address("255.1.1.1")) == true)
        let low = try #require(CIDR(text: "2001:db8::1:2/127"))
        #expect(low.contains(Self.address("2001:db8::1:3")) && !low.contains(Self.address("2001:db8::1:4")))
        for bad in ["192.0.2.0/33", "::/129", "192.0.2.0/", "192.0.2.0/024", "example.com", "192.0.2/24", "/8", "1.2.3.4/8/8"] {
            #expect(CIDR(text: bad) == nil, "\(bad)")
        }
    }

    @Test("allow/deny: the first matching rule decides; no match allows; all matches every family")
    func accessList() {
        let rules = Self.list([(true, "127.0.0.1"), (false, "127.0.0.0/8"), (true, "::1"), (false, nil)])
        #expect(rules.allows(Self.address("127.0.0.1")))
        #expect(!rules.allows(Self.address("127.0.0.2")))
        #expect(!rules.allows(Self.address("::ffff:127.0.0.2")))
        #expect(rules.allows(Self.address("::1")))
        #expect(!rules.allows(Self.address("192.0.2.1")))
        #expect(!rules.allows(Self.address("::2")))
        let denyOne = Self.list([(false, "192.0.2.1")])
        #expect(!denyOne.allows(Self.address("192.0.2.1")))
        #expect(denyOne.allows(Self.address("192.0.2.2")))
        #expect(AccessList().allows(Self.address("192.0.2.2")))
    }

    @Test("$binary_remote_addr bytes: 4 for IPv4, 16 for IPv6, in network order")
    func binaryAddress() {
        #expect(Self.address("192.0.2.1").bytes == [192, 0, 2, 1])
        #expect(Self.address("2001:db8::1").bytes == [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1])
    }

    @Test("limit_conn zone: N sessions per key, the N+1st limited, a release makes room, keys apart")
    func limits() {
        let zone = ConnectionLimitZone(name: "addr", size: 1 << 20)
        let key: [UInt8] = [127, 0, 0, 1]
        #expect((0..<3).map { _ in zone.acquire(key, limit: 3) } == [.admitted, .admitted, .admitted])
        #expect(zone.acquire(key, limit: 3) == .limited)
        #expect(zone.count(key) == 3)
        #expect(zone.acquire([127, 0, 0, 2], limit: 3) == .admitted)
        zone.release(key)
        #expect(zone.acquire(key, limit: 3) == .admitted)
        #expect(zone.acquire(key, limit: 3) == .limited)
        for _ in 0..<3 { zone.release(key) }
        zone.release([127, 0, 0, 2])
        #expect(zone.count(key) == 0)
        #expect(zone.used == 0)
        // A stray release (a key never counted) changes nothing.
        zone.release(key)
        #expect(zone.used == 0)
        #expect(zone.acquire(key, limit: 0) == .limited)
    }

    @Test("limit_conn zone full: a new key is refused once the size is spent (64 bytes per IPv4 key), old keys still counted")
    func zoneFull() {
        #expect(ConnectionLimitZone.entryCost(keyLength: 4) == 64)
        #expect(ConnectionLimitZone.entryCost(keyLength: 16) == 64)
        #expect(ConnectionLimitZone.entryCost(keyLength: 29) == 128)
        #expect(ConnectionLimitZone(name: "x", size: 1 << 20).size / ConnectionLimitZone.entryCost(keyLength: 4) == 16_384)
        let zone = ConnectionLimitZone(name: "small", size: 64 * 3)
        for last in UInt8(0)..<3 {
            #expect(zone.acquire([10, 0, 0, last], limit: 1) == .admitted)
        }
        #expect(zone.acquire([10, 0, 0, 9], limit: 1) == .full)
        #expect(zone.acquire([10, 0, 0, 0], limit: 1) == .limited)
        #expect(zone.acquire([10, 0, 0, 0], limit: 2) == .admitted)
        zone.release([10, 0, 0, 1])
        #expect(zone.acquire([10, 0, 0, 9], limit: 1) == .admitted)
    }
}
