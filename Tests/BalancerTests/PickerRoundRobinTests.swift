import Testing

@testable import Balancer

@Suite("Picker: smooth weighted round robin")
struct PickerRoundRobinTests {
    static func pool(_ servers: [StaticServer], clock: ManualClock = ManualClock()) -> MemberPool {
        MemberPool(configuration: UpstreamConfiguration(name: "u", servers: servers), now: clock.source)
    }

    /// Picks `count` times, closing each connection at once; returns the chosen ports.
    static func sequence(_ pool: MemberPool, _ count: Int, client: String? = nil) -> [Int] {
        (0..<count).compactMap { _ in
            guard let pick = pool.pick(clientAddress: client, excluding: []) else { return nil }
            pool.connectSucceeded(pick.id)
            pool.connectionClosed(pick.id)
            return pick.port
        }
    }

    @Test("weights 5,1,1 give a a b a c a a, as nginx does")
    func nginxSequence() {
        let pool = Self.pool([
            StaticServer(host: "a", port: 1, weight: 5),
            StaticServer(host: "b", port: 2, weight: 1),
            StaticServer(host: "c", port: 3, weight: 1),
        ])
        #expect(Self.sequence(pool, 14) == [1, 1, 2, 1, 3, 1, 1, 1, 1, 2, 1, 3, 1, 1])
    }

    @Test("equal weights alternate in file order")
    func equalWeights() {
        let pool = Self.pool([StaticServer(host: "127.0.0.1", port: 6000), StaticServer(host: "127.0.0.1", port: 6002)])
        #expect(Self.sequence(pool, 6) == [6000, 6002, 6000, 6002, 6000, 6002])
    }

    @Test("the same address on two lines is two peers: each its own id, weight and share, as nginx")
    func duplicateAddresses() throws {
        let pool = Self.pool([
            StaticServer(host: "127.0.0.1", port: 6000, weight: 2),
            StaticServer(host: "127.0.0.1", port: 6000, weight: 1),
            StaticServer(host: "127.0.0.1", port: 6002, weight: 1),
        ])
        var ids: [String] = []
        for _ in 0..<8 {
            let pick = try #require(pool.pick(clientAddress: nil, excluding: []))
            pool.connectSucceeded(pick.id)
            pool.connectionClosed(pick.id)
            ids.append(pick.id.rawValue)
        }
        let first = "static:127.0.0.1:6000", repeat_ = "static:127.0.0.1:6000#2", other = "static:127.0.0.1:6002"
        #expect(ids == [first, repeat_, other, first, first, repeat_, other, first])
        let status = pool.status()
        #expect(status.map(\.id) == [first, repeat_, other])
        #expect(status.map(\.address) == ["127.0.0.1:6000", "127.0.0.1:6000", "127.0.0.1:6002"])
        #expect(status.map(\.total) == [4, 2, 2])
        // A failure counts against the one peer picked, not the other line of its address.
        let failing = try #require(pool.pick(clientAddress: nil, excluding: []))
        pool.connectFailed(failing.id, reason: "refused")
        #expect(pool.status().map(\.failures) == (failing.id.rawValue == first ? [1, 0, 0] : [0, 1, 0]))
    }

    @Test("a failure lowers effective_weight by weight/max_fails and it climbs back one per pass")
    func effectiveWeight() throws {
        let pool = Self.pool([
            StaticServer(host: "a", port: 1, weight: 3, maxFails: 3),
            StaticServer(host: "b", port: 2, weight: 3, maxFails: 3),
        ])
        let first = try #require(pool.pick(clientAddress: nil))
        #expect(first.port == 1)
        pool.connectFailed(first.id, reason: "connection refused")
        // Worked by hand from ngx_stream_upstream_get_peer: a's effective weight is 2 for one pass.
        #expect(Self.sequence(pool, 5) == [2, 2, 1, 2, 1])
        #expect(pool.status().map(\.state) == ["up", "up"])
    }

    @Test("down members are never picked")
    func down() {
        let pool = Self.pool([StaticServer(host: "a", port: 1), StaticServer(host: "b", port: 2, down: true)])
        #expect(Self.sequence(pool, 4) == [1, 1, 1, 1])
        #expect(pool.status().map(\.state) == ["up", "down"])
    }

    @Test("backup members only when every primary is unavailable")
    func backup() throws {
        let clock = ManualClock()
        let pool = Self.pool([
            StaticServer(host: "a", port: 1, maxFails: 1),
            StaticServer(host: "b", port: 2, maxFails: 1),
            StaticServer(host: "c", port: 3, backup: true),
        ], clock: clock)
        #expect(Self.sequence(pool, 4) == [1, 2, 1, 2])
        let a = try #require(pool.pick(clientAddress: nil))
        pool.connectFailed(a.id, reason: "refused")
        #expect(Self.sequence(pool, 2) == [2, 2])
        let b = try #require(pool.pick(clientAddress: nil))
        pool.connectFailed(b.id, reason: "refused")
        #expect(Self.sequence(pool, 3) == [3, 3, 3])
        #expect(pool.status().map(\.state) == ["unavailable", "unavailable", "backup"])
        // Primaries come back after fail_timeout (10s default) and backup stops taking traffic; their
        // effective weights were cut to 0 by the failures and climb back, which delays a's turn.
        clock.advance(by: .seconds(10) + .milliseconds(1))
        #expect(Self.sequence(pool, 4) == [2, 2, 1, 2])
    }

    @Test("backup also serves when every primary was already tried for this client")
    func backupAfterTried() throws {
        let pool = Self.pool([StaticServer(host: "a", port: 1), StaticServer(host: "b", port: 2, backup: true)])
        let first = try #require(pool.pick(clientAddress: nil, excluding: []))
        let second = try #require(pool.pick(clientAddress: nil, excluding: [first.id]))
        #expect(first.port == 1 && second.port == 2)
        #expect(pool.pick(clientAddress: nil, excluding: [first.id, second.id]) == nil)
    }

    @Test("max_conns caps a member; the slot frees when the connection closes")
    func maxConns() throws {
        let pool = Self.pool([StaticServer(host: "a", port: 1, weight: 10, maxConns: 2), StaticServer(host: "b", port: 2)])
        let picks = (0..<5).compactMap { _ in pool.pick(clientAddress: nil) }
        #expect(picks.filter { $0.port == 1 }.count == 2)
        #expect(picks.filter { $0.port == 2 }.count == 3)
        let capped = try #require(picks.first { $0.port == 1 })
        pool.connectionClosed(capped.id)
        #expect(pool.pick(clientAddress: nil)?.port == 1)
    }

    @Test("a lone member: nginx's single peer is never marked failed")
    func singlePeer() throws {
        let pool = Self.pool([StaticServer(host: "a", port: 1, maxFails: 1)])
        for _ in 0..<3 {
            let pick = try #require(pool.pick(clientAddress: nil))
            pool.connectFailed(pick.id, reason: "refused")
        }
        #expect(pool.pick(clientAddress: nil)?.port == 1)
        let status = try #require(pool.status().first)
        #expect(status.state == "up" && status.failures == 3 && status.lastFailureReason == "refused")
    }

    @Test("nothing eligible gives nil (no live upstreams)")
    func noneLive() {
        let pool = Self.pool([StaticServer(host: "a", port: 1, down: true), StaticServer(host: "b", port: 2, down: true)])
        #expect(pool.pick(clientAddress: nil) == nil)
    }
}
