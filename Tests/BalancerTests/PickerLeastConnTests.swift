import Testing

@testable import Balancer

@Suite("Picker: least connections")
struct PickerLeastConnTests {
    @Test("fewest connections per weight; ties broken by weighted round robin, as nginx does")
    func sequence() throws {
        let pool = MemberPool(configuration: UpstreamConfiguration(
            name: "u", method: .leastConn,
            servers: [StaticServer(host: "a", port: 1, weight: 1), StaticServer(host: "b", port: 2, weight: 2)]))
        // Worked by hand from ngx_stream_upstream_get_least_conn_peer (connections stay open).
        var picks: [Pick] = []
        for _ in 0..<4 {
            picks.append(try #require(pool.pick(clientAddress: nil)))
        }
        #expect(picks.map(\.port) == [2, 1, 2, 1])
        pool.connectionClosed(picks[1].id)
        pool.connectionClosed(picks[3].id)
        #expect(pool.pick(clientAddress: nil)?.port == 1)
        #expect(pool.status().map(\.active) == [1, 2])
    }

    @Test("long-lived connections spread by weight")
    func spread() {
        let pool = MemberPool(configuration: UpstreamConfiguration(
            name: "u", method: .leastConn,
            servers: [StaticServer(host: "a", port: 1, weight: 1), StaticServer(host: "b", port: 2, weight: 3)]))
        for _ in 0..<400 {
            _ = pool.pick(clientAddress: nil)
        }
        #expect(pool.status().map(\.active) == [100, 300])
    }

    @Test("backup members only when no primary is eligible")
    func backup() throws {
        let pool = MemberPool(configuration: UpstreamConfiguration(
            name: "u", method: .leastConn,
            servers: [StaticServer(host: "a", port: 1, maxConns: 1), StaticServer(host: "b", port: 2, backup: true)]))
        #expect(pool.pick(clientAddress: nil)?.port == 1)
        #expect(pool.pick(clientAddress: nil)?.port == 2)
        #expect(pool.pick(clientAddress: nil)?.port == 2)
    }
}
