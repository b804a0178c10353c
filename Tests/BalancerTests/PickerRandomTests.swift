import Testing

@testable import Balancer

@Suite("Picker: random [two]")
struct PickerRandomTests {
    static func pool(two: Bool, servers: [StaticServer], seed: UInt64 = 42) -> MemberPool {
        MemberPool(configuration: UpstreamConfiguration(name: "u", method: .random(two: two), servers: servers), seed: seed)
    }

    @Test("random follows the weights")
    func weighted() {
        let pool = Self.pool(two: false, servers: [
            StaticServer(host: "a", port: 1, weight: 1), StaticServer(host: "b", port: 2, weight: 3),
        ])
        let ports = PickerRoundRobinTests.sequence(pool, 20_000)
        let share = Double(ports.filter { $0 == 2 }.count) / Double(ports.count)
        #expect(share > 0.72 && share < 0.78)
    }

    @Test("the same seed gives the same sequence")
    func deterministic() {
        let servers = (1...5).map { StaticServer(host: "h", port: $0) }
        #expect(PickerRoundRobinTests.sequence(Self.pool(two: false, servers: servers, seed: 7), 50)
            == PickerRoundRobinTests.sequence(Self.pool(two: false, servers: servers, seed: 7), 50))
    }

    @Test("random two takes the less loaded of two")
    func two() {
        let pool = Self.pool(two: true, servers: [StaticServer(host: "a", port: 1), StaticServer(host: "b", port: 2)])
        for _ in 0..<101 {
            _ = pool.pick(clientAddress: nil)
        }
        let active = pool.status().map { $0.active ?? 0 }
        #expect(active.reduce(0, +) == 101)
        #expect(abs(active[0] - active[1]) <= 1)
    }

    @Test("random two over many members keeps the spread tight")
    func twoMany() {
        let pool = Self.pool(two: true, servers: (1...10).map { StaticServer(host: "h", port: $0) })
        for _ in 0..<1_000 {
            _ = pool.pick(clientAddress: nil)
        }
        let active = pool.status().map { $0.active ?? 0 }
        #expect(active.reduce(0, +) == 1_000)
        #expect(active.max()! - active.min()! <= 10, "\(active)")
    }

    @Test("unavailable, down and full members are skipped")
    func skips() throws {
        let pool = Self.pool(two: false, servers: [
            StaticServer(host: "a", port: 1, down: true),
            StaticServer(host: "b", port: 2, maxConns: 1),
            StaticServer(host: "c", port: 3, maxFails: 1),
            StaticServer(host: "d", port: 4),
        ])
        var seen: Set<Int> = []
        var failedC = false
        for _ in 0..<200 {
            let pick = try #require(pool.pick(clientAddress: nil))
            seen.insert(pick.port)
            if pick.port == 3, !failedC {
                pool.connectFailed(pick.id, reason: "refused")
                failedC = true
            } else if pick.port != 2 {
                pool.connectionClosed(pick.id)
            }
        }
        #expect(!seen.contains(1))
        #expect(pool.status().first { $0.id == "static:b:2" }?.active == 1)
        #expect(pool.status().first { $0.id == "static:c:3" }?.state == "unavailable")
        #expect(pool.status().first { $0.id == "static:c:3" }?.total == 1)
    }
}
