import Testing

@testable import Balancer
import ProxyEngine
import Registry

@Suite("Picker: hash $remote_addr [consistent]")
struct PickerHashTests {
    static let servers = [
        StaticServer(host: "127.0.0.1", port: 6000, weight: 1),
        StaticServer(host: "127.0.0.1", port: 6001, weight: 2),
        StaticServer(host: "127.0.0.1", port: 6002, weight: 1),
    ]
    static let clients = (1...8).map { "10.0.0.\($0)" } + ["192.168.1.77", "::1"]

    static func pool(consistent: Bool, servers: [StaticServer] = servers) -> MemberPool {
        MemberPool(configuration: UpstreamConfiguration(name: "u", method: .hash(consistent: consistent), servers: servers))
    }

    static func port(_ pool: MemberPool, _ client: String) -> Int? {
        guard let pick = pool.pick(clientAddress: client) else { return nil }
        pool.connectSucceeded(pick.id)
        pool.connectionClosed(pick.id)
        return pick.port
    }

    @Test("CRC-32 matches the standard (nginx's ngx_crc32)")
    func crc() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    // Expected ports computed independently (Python zlib.crc32 and nginx's formulas).
    @Test("plain hash lands where nginx's ((crc32(key) >> 16) & 0x7fff) % total_weight does")
    func plainMatchesNginx() {
        let pool = Self.pool(consistent: false)
        #expect(Self.clients.map { Self.port(pool, $0) } == [6001, 6002, 6000, 6000, 6002, 6001, 6001, 6001, 6001, 6001])
    }

    @Test("consistent hash lands on nginx's ketama points (160 per weight unit)")
    func consistentMatchesNginx() {
        let pool = Self.pool(consistent: true)
        #expect(Self.clients.map { Self.port(pool, $0) } == [6001, 6001, 6002, 6001, 6001, 6001, 6001, 6001, 6002, 6002])
        let ring = ConsistentHashRing(members: Self.servers.map {
            PoolMember(id: .staticServer(host: $0.host, port: $0.port), host: $0.host, port: $0.port,
                           source: .static, weight: $0.weight, maxFails: 1, failTimeout: .seconds(10))
        })
        #expect(ring.points.count == 640)
    }

    @Test("the same client always gets the same member")
    func sticky() {
        for consistent in [false, true] {
            let pool = Self.pool(consistent: consistent)
            for client in Self.clients {
                let first = Self.port(pool, client)
                #expect((0..<5).allSatisfy { _ in Self.port(pool, client) == first })
            }
        }
    }

    /// The key PoolRoute's evaluator makes for a client 10.0.0.1:`port`, as the engine calls it.
    static func key(_ template: String, port: UInt16) throws -> String? {
        let method = try HashBalancing.parse([template])
        let key = try #require(method.pickKey)
        var record = SessionRecord()
        record.client = RecordAddress(family: .inet, port: port, bytes: [10, 0, 0, 1])
        return PoolRoute.pickKey(key).evaluate(record)
    }

    // Expected ports from Python: [6000, 6001, 6001, 6002][((zlib.crc32(key) >> 16) & 0x7fff) % 4].
    @Test("hash $remote_port and a literal-plus-variables key pick where nginx's CRC-32 does")
    func templateKeys() throws {
        let pool = Self.pool(consistent: false)
        let ports: [UInt16] = [40000, 40001, 40002, 40003]
        let plain = try ports.map { try Self.key("$remote_port", port: $0) }
        #expect(plain == ["40000", "40001", "40002", "40003"])
        #expect(plain.map { Self.port(pool, $0!) } == [6000, 6002, 6001, 6001])
        let mixed = try ports.map { try Self.key("u-${remote_port}:$remote_addr", port: $0) }
        #expect(mixed.first == "u-40000:10.0.0.1")
        #expect(mixed.map { Self.port(pool, $0!) } == [6002, 6001, 6001, 6000])
    }

    @Test("$remote_addr keeps the engine's address text; other keys are templates and named in the method")
    func keyKinds() throws {
        let address = try HashBalancing.parse(["$remote_addr", "consistent"])
        #expect(address.pickKey == nil && address.needsClientAddress && address.description == "hash consistent")
        let port = try HashBalancing.parse(["$remote_port"])
        #expect(port.pickKey != nil && !port.needsClientAddress && port.description == "hash $remote_port")
        #expect(PoolRoute.pickKey(try #require(HashBalancing.parse(["$server_addr"]).pickKey)).needsServerAddress)
        #expect(throws: BalancingParameterError.self) { try HashBalancing.parse(["$upstream_addr"]) }
    }

    @Test("no client address (e.g. a unix socket) falls back to round robin")
    func noKey() {
        let pool = Self.pool(consistent: true)
        #expect(PickerRoundRobinTests.sequence(pool, 4) == [6001, 6000, 6002, 6001])
    }

    static func discoveredPool(count: Int) -> MemberPool {
        let pool = MemberPool(configuration: UpstreamConfiguration(
            name: "u", method: .hash(consistent: true), zookeeper: ZooKeeperSource(connectString: "zk:2181", path: "/m")))
        pool.applyMembership((0..<count).map { MemberRecord(id: "m\($0)", host: "10.1.0.\($0)", port: 7000) }, stale: false)
        return pool
    }

    static let manyClients = (0..<10_000).map { "172.16.\($0 / 256).\($0 % 256)" }

    @Test("a member leaving moves only its own clients (consistent hash movement bound)")
    func leaveMovesOnlyItsClients() throws {
        let pool = Self.discoveredPool(count: 10)
        let before = Self.manyClients.map { pool.pick(clientAddress: $0).map(\.host) }
        for status in pool.status() where (status.active ?? 0) > 0 {
            for _ in 0..<(status.active ?? 0) { pool.connectionClosed(MemberID(rawValue: status.id)) }
        }
        let perMember = Dictionary(grouping: before, by: { $0 }).mapValues(\.count)
        // Each of 10 members of equal weight holds roughly a tenth of the clients.
        #expect(perMember.values.allSatisfy { $0 > 500 && $0 < 1_600 }, "\(perMember)")

        pool.applyMembership((0..<10).filter { $0 != 3 }.map { MemberRecord(id: "m\($0)", host: "10.1.0.\($0)", port: 7000) }, stale: false)
        let after = Self.manyClients.map { pool.pick(clientAddress: $0).map(\.host) }
        var moved = 0
        for (old, new) in zip(before, after) {
            if old == "10.1.0.3" {
                #expect(new != "10.1.0.3")
                moved += 1
            } else {
                #expect(old == new)
            }
        }
        #expect(moved == perMember["10.1.0.3"])
        #expect(Double(moved) / Double(Self.manyClients.count) < 0.2)
    }

    @Test("a member joining takes clients only for itself")
    func joinMovesOnlyToNewcomer() {
        let pool = Self.discoveredPool(count: 9)
        let before = Self.manyClients.map { client -> String? in
            let pick = pool.pick(clientAddress: client)
            if let pick { pool.connectionClosed(pick.id) }
            return pick?.host
        }
        pool.applyMembership((0..<10).map { MemberRecord(id: "m\($0)", host: "10.1.0.\($0)", port: 7000) }, stale: false)
        var movedToNew = 0
        for (client, old) in zip(Self.manyClients, before) {
            let pick = pool.pick(clientAddress: client)
            if let pick { pool.connectionClosed(pick.id) }
            if pick?.host == "10.1.0.9" {
                movedToNew += 1
            } else {
                #expect(pick?.host == old)
            }
        }
        #expect(movedToNew > 300 && movedToNew < 2_000)
    }

    @Test("an unavailable member's clients go to the next point and come back afterwards")
    func unavailableSkipped() throws {
        let clock = ManualClock()
        let pool = MemberPool(
            configuration: UpstreamConfiguration(name: "u", method: .hash(consistent: true), servers: Self.servers),
            now: clock.source)
        let client = "10.0.0.3"  // lands on 6002
        let first = try #require(pool.pick(clientAddress: client))
        #expect(first.port == 6002)
        pool.connectFailed(first.id, reason: "refused")
        let others = Self.clients.filter { Self.port(pool, $0) != nil }
        #expect(others.count == Self.clients.count)
        #expect(Self.port(pool, client) != 6002)
        // Clients of the other members are untouched.
        #expect(Self.port(pool, "10.0.0.1") == 6001)
        clock.advance(by: .seconds(11))
        #expect(Self.port(pool, client) == 6002)
    }

    @Test("plain hash rehashes past an unavailable member")
    func plainRehash() throws {
        let pool = Self.pool(consistent: false)
        let first = try #require(pool.pick(clientAddress: "10.0.0.2"))
        #expect(first.port == 6002)
        pool.connectFailed(first.id, reason: "refused")
        let second = try #require(pool.pick(clientAddress: "10.0.0.2"))
        #expect(second.port != 6002)
        #expect(Self.port(pool, "10.0.0.3") == 6000)
    }

    @Test("a client that already tried its member gets another one")
    func excluding() throws {
        for consistent in [false, true] {
            let pool = Self.pool(consistent: consistent)
            let first = try #require(pool.pick(clientAddress: "10.0.0.5"))
            let second = try #require(pool.pick(clientAddress: "10.0.0.5", excluding: [first.id]))
            let third = try #require(pool.pick(clientAddress: "10.0.0.5", excluding: [first.id, second.id]))
            #expect(Set([first.port, second.port, third.port]) == [6000, 6001, 6002])
            #expect(pool.pick(clientAddress: "10.0.0.5", excluding: [first.id, second.id, third.id]) == nil)
        }
    }
}
