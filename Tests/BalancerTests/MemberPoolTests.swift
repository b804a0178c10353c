import Dispatch
import Foundation
import MusterBase
import Testing

@testable import Balancer
import Registry

@Suite("Upstream pool: membership, reconfiguration, status")
struct MemberPoolTests {
    /// The panic threshold is off here: these tests are about plain removal (StormPoolTests has it on).
    static let zookeeper = ZooKeeperSource(
        connectString: "127.0.0.1:2181", path: "/muster/services/chat", maxFails: 2, failTimeout: .seconds(5), panicThreshold: 0)

    static func member(_ n: Int, weight: Int = 1, draining: Bool = false) -> MemberRecord {
        MemberRecord(id: "chat-\(n)", host: "127.0.0.1", port: 7000 + n, weight: weight, draining: draining)
    }

    /// Picks `count` times and reports each connect as made: connections left open, in pick order.
    static func connect(_ count: Int, through pool: MemberPool) throws -> [Pick] {
        try (0..<count).map { _ in
            let pick = try #require(pool.pick(clientAddress: nil))
            pool.connectSucceeded(pick.id)
            return pick
        }
    }

    static func mixedPool() -> MemberPool {
        MemberPool(configuration: UpstreamConfiguration(
            name: "chat", servers: [StaticServer(host: "127.0.0.1", port: 6000)], zookeeper: zookeeper))
    }

    @Test("static and discovered members are picked alike")
    func mixed() {
        let pool = Self.mixedPool()
        let change = pool.applyMembership([Self.member(1), Self.member(2)], stale: false)
        #expect(change.added == [.discovered("chat-1"), .discovered("chat-2")])
        #expect(Set(PickerRoundRobinTests.sequence(pool, 6)) == [6000, 7001, 7002])
        let status = pool.status()
        #expect(status.map(\.id) == ["static:127.0.0.1:6000", "zk:chat-1", "zk:chat-2"])
        #expect(status.map(\.source) == ["static", "zookeeper", "zookeeper"])
        #expect(status.map(\.address) == ["127.0.0.1:6000", "127.0.0.1:7001", "127.0.0.1:7002"])
        #expect(status.map(\.total) == [2, 2, 2])
    }

    @Test("a removed member gets no new connections, drains its open ones, then leaves status")
    func removedDrains() throws {
        let pool = Self.mixedPool()
        pool.applyMembership([Self.member(1)], stale: false)
        let open = try Self.connect(4, through: pool)
        let change = pool.applyMembership([], stale: false)
        #expect(change.removed == [.discovered("chat-1")])
        #expect(PickerRoundRobinTests.sequence(pool, 5) == [6000, 6000, 6000, 6000, 6000])
        let draining = try #require(pool.status().first { $0.id == "zk:chat-1" })
        #expect(draining.state == "draining" && draining.active == 2)
        for pick in open where pick.port == 7001 {
            pool.connectionClosed(pick.id)
        }
        #expect(pool.status().map(\.id) == ["static:127.0.0.1:6000"])
    }

    @Test("a removed member without connections disappears at once; it can come back")
    func removedAndBack() {
        let pool = Self.mixedPool()
        pool.applyMembership([Self.member(1), Self.member(2)], stale: false)
        pool.applyMembership([Self.member(2)], stale: false)
        #expect(pool.status().map(\.id) == ["static:127.0.0.1:6000", "zk:chat-2"])
        pool.applyMembership([Self.member(1), Self.member(2)], stale: false)
        #expect(pool.status().map(\.id) == ["static:127.0.0.1:6000", "zk:chat-2", "zk:chat-1"])
    }

    @Test("a removed member that comes back while draining keeps its counters")
    func backWhileDraining() throws {
        let pool = MemberPool(configuration: UpstreamConfiguration(name: "chat", zookeeper: Self.zookeeper))
        pool.applyMembership([Self.member(1)], stale: false)
        let pick = try #require(pool.pick(clientAddress: nil))
        pool.connectSucceeded(pick.id)
        pool.applyMembership([], stale: false)
        #expect(pool.pick(clientAddress: nil) == nil)
        let change = pool.applyMembership([Self.member(1)], stale: false)
        #expect(change.updated == [.discovered("chat-1")])
        let status = try #require(pool.status().first)
        #expect(status.state == "up" && status.active == 1 && status.total == 1)
        #expect(pool.pick(clientAddress: nil)?.id == .discovered("chat-1"))
    }

    @Test("a record marked draining gets no new connections but stays listed")
    func drainingRecord() {
        let pool = Self.mixedPool()
        pool.applyMembership([Self.member(1), Self.member(2, draining: true)], stale: false)
        #expect(Set(PickerRoundRobinTests.sequence(pool, 10)) == [6000, 7001])
        #expect(pool.status().map(\.state) == ["up", "up", "draining"])
        pool.applyMembership([Self.member(1), Self.member(2)], stale: false)
        #expect(Set(PickerRoundRobinTests.sequence(pool, 10)) == [6000, 7001, 7002])
    }

    @Test("weight changes apply live")
    func weightChange() {
        let pool = MemberPool(configuration: UpstreamConfiguration(name: "chat", zookeeper: Self.zookeeper))
        pool.applyMembership([Self.member(1), Self.member(2)], stale: false)
        #expect(PickerRoundRobinTests.sequence(pool, 4) == [7001, 7002, 7001, 7002])
        let change = pool.applyMembership([Self.member(1, weight: 3), Self.member(2)], stale: false)
        #expect(change.updated == [.discovered("chat-1")])
        let ports = PickerRoundRobinTests.sequence(pool, 400)
        #expect(ports.filter { $0 == 7001 }.count == 300)
        #expect(pool.status().first?.weight == 3)
    }

    @Test("stale snapshots never remove members, and an empty stale snapshot changes nothing")
    func stale() {
        let pool = MemberPool(configuration: UpstreamConfiguration(name: "chat", zookeeper: Self.zookeeper))
        pool.applyMembership([Self.member(1), Self.member(2)], stale: false)
        let empty = pool.applyMembership([], stale: true)
        #expect(empty.removed.isEmpty && empty.keptBecauseStale)
        #expect(pool.status().count == 2)
        pool.applyMembership([Self.member(2), Self.member(3)], stale: true)
        #expect(pool.status().map(\.id) == ["zk:chat-1", "zk:chat-2", "zk:chat-3"])
        let pick = pool.pick(clientAddress: nil)
        #expect(pick != nil)
        if let pick { pool.connectionClosed(pick.id) }
        // The next fresh snapshot is authoritative again.
        pool.applyMembership([Self.member(3)], stale: false)
        #expect(pool.status().map(\.id) == ["zk:chat-3"])
    }

    @Test("bad records are rejected with a reason, the rest apply")
    func badRecords() {
        let pool = MemberPool(configuration: UpstreamConfiguration(name: "chat", zookeeper: Self.zookeeper))
        let change = pool.applyMembership([
            MemberRecord(id: "ok", host: "10.0.0.1", port: 7000, weight: 5_000),
            MemberRecord(id: "noport", host: "10.0.0.2", port: 0),
            MemberRecord(id: "nohost", host: "", port: 7000),
            MemberRecord(id: "ok", host: "10.0.0.3", port: 7000),
            MemberRecord(id: "", host: "10.0.0.4", port: 7000),
        ], stale: false)
        #expect(change.added == [.discovered("ok")])
        #expect(change.rejected.count == 4)
        #expect(pool.status().map(\.weight) == [MemberLimits.weights.upperBound])
    }

    @Test("discovered members use the zookeeper directive's max_fails and fail_timeout")
    func discoveredHealth() throws {
        let clock = ManualClock()
        let pool = MemberPool(configuration: UpstreamConfiguration(name: "chat", zookeeper: Self.zookeeper), now: clock.source)
        pool.applyMembership([Self.member(1), Self.member(2)], stale: false)
        let bad = MemberID.discovered("chat-1")
        for _ in 0..<2 {
            let pick = try #require(pool.pick(clientAddress: nil, excluding: [.discovered("chat-2")]))
            #expect(pick.id == bad)
            pool.connectFailed(pick.id, reason: "refused")
        }
        #expect(pool.status().first?.state == "unavailable")
        clock.advance(by: .seconds(5) + .milliseconds(1))
        #expect(pool.status().first?.state == "up")
    }

    @Test("reconfigure keeps counters of members that stay and drains the others")
    func reconfigure() throws {
        let pool = MemberPool(configuration: UpstreamConfiguration(name: "chat", servers: [
            StaticServer(host: "127.0.0.1", port: 6000, maxFails: 5),
            StaticServer(host: "127.0.0.1", port: 6002, maxFails: 5),
        ], zookeeper: Self.zookeeper))
        pool.applyMembership([Self.member(1)], stale: false)
        let open = try Self.connect(6, through: pool)
        let failing = try #require(pool.pick(clientAddress: nil))
        pool.connectFailed(failing.id, reason: "refused")

        pool.reconfigure(UpstreamConfiguration(name: "chat", method: .leastConn, servers: [
            StaticServer(host: "127.0.0.1", port: 6002, weight: 2, maxFails: 5),
            StaticServer(host: "127.0.0.1", port: 6004),
        ], zookeeper: Self.zookeeper))
        let status = pool.status()
        // New static order first, then the members carried over in their old order.
        #expect(status.map(\.id) == ["static:127.0.0.1:6002", "static:127.0.0.1:6004", "static:127.0.0.1:6000", "zk:chat-1"])
        #expect(status.map(\.state) == ["up", "up", "draining", "up"])
        #expect(status[0].weight == 2 && status[0].active == 2 && status[0].total == 2)
        #expect(status[2].active == 2 && status[2].total == 3 && status[2].failures == 1)
        #expect(status[3].active == 2 && status[3].total == 2)
        #expect(pool.configuration.method == .leastConn)
        // New picks never go to the removed :6000; least_conn now favours the empty :6004.
        #expect(pool.pick(clientAddress: nil)?.port == 6004)
        for pick in open where pick.port == 6000 {
            pool.connectionClosed(pick.id)
        }
        #expect(pool.status().count == 3)

        // Dropping the zookeeper directive drains discovered members too.
        pool.reconfigure(UpstreamConfiguration(name: "chat", servers: [StaticServer(host: "127.0.0.1", port: 6004)]))
        #expect(pool.status().first { $0.id == "zk:chat-1" }?.state == "draining")
    }

    @Test("status reports backup, down, unavailable and ISO 8601 failure times")
    func status() throws {
        let pool = MemberPool(
            configuration: UpstreamConfiguration(name: "chat", servers: [
                StaticServer(host: "127.0.0.1", port: 6000),
                StaticServer(host: "127.0.0.1", port: 6001),
                StaticServer(host: "::1", port: 6002, backup: true),
                StaticServer(host: "127.0.0.1", port: 6003, down: true),
            ]),
            wallClock: { Date(timeIntervalSince1970: 1_700_000_000) })
        let pick = try #require(pool.pick(clientAddress: nil))
        pool.connectFailed(pick.id, reason: "connect timed out after 1s")
        let status = pool.status()
        #expect(status.map(\.state) == ["unavailable", "up", "backup", "down"])
        #expect(status[2].address == "[::1]:6002")
        #expect(status[0].lastFailure == "2023-11-14T22:13:20Z")
        #expect(status[0].lastFailureReason == "connect timed out after 1s")
        let json = try JSONEncoder().encode(status)
        #expect(try JSONDecoder().decode([MemberStatus].self, from: json) == status)
    }

    @Test("concurrent picks and releases from many threads leave consistent counters")
    func concurrency() {
        let pool = MemberPool(configuration: UpstreamConfiguration(name: "chat", method: .leastConn, zookeeper: Self.zookeeper))
        pool.applyMembership((1...8).map { Self.member($0) }, stale: false)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<5_000 {
                if worker == 0, round % 1_000 == 0 {
                    pool.applyMembership((1...(8 - round / 1_000)).map { Self.member($0) }, stale: false)
                }
                guard let pick = pool.pick(clientAddress: "10.0.\(worker).\(round % 256)") else { continue }
                if round % 7 == 0 {
                    pool.connectFailed(pick.id, reason: "refused")
                } else {
                    pool.connectSucceeded(pick.id)
                    pool.connectionClosed(pick.id)
                }
            }
        }
        let status = pool.status()
        #expect(status.allSatisfy { $0.active == 0 })
        #expect(status.map(\.id) == (1...4).map { "zk:chat-\($0)" })
    }
}

@Suite("Upstream pool: Registry records")
struct MemberPoolRegistryTests {
    @Test("MembershipSnapshots apply like record lists, stale ones never remove")
    func records() {
        let pool = MemberPool(configuration: UpstreamConfiguration(
            name: "chat", zookeeper: ZooKeeperSource(connectString: "127.0.0.1:2181", path: "/m", panicThreshold: 0)))
        let one = MemberRecord(id: "chat-1", host: "127.0.0.1", port: 7001, weight: 2)
        let two = MemberRecord(id: "chat-2", host: "127.0.0.1", port: 7002, draining: true)
        let change = pool.apply(MembershipSnapshot(members: [one, two], stale: false))
        #expect(change.added == [.discovered("chat-1"), .discovered("chat-2")])
        #expect(pool.status().map(\.weight) == [2, 1])
        #expect(pool.status().map(\.state) == ["up", "draining"])
        pool.applyMembership([MemberRecord](), stale: true)
        #expect(pool.status().count == 2)
        pool.apply(MembershipSnapshot(members: [two], stale: false))
        #expect(pool.status().map(\.id) == ["zk:chat-2"])
    }

    @Test("a record becomes a member through one conversion; a changed record updates it in place")
    func conversion() {
        let source = ZooKeeperSource(
            connectString: "127.0.0.1:2181", path: "/m", maxFails: 3, failTimeout: .seconds(7), slowStart: .seconds(4))
        var member = PoolMember(
            record: MemberRecord(id: "chat-1", host: "::1", port: 7001, weight: 2, draining: true, leaving: "shutdown"),
            source: source)
        #expect(member.id == .discovered("chat-1") && member.source == .zookeeper)
        #expect(member.address == "[::1]:7001" && member.peer.weight == 2 && member.peer.effectiveWeight == 2)
        #expect(member.peer.draining && member.peer.leaving && member.leavingReason == "shutdown")
        #expect(member.peer.health.maxFails == 3 && member.peer.health.failTimeout == .seconds(7))
        #expect(member.peer.slowStart == .seconds(4))

        let same = member.take(MemberRecord(id: "chat-1", host: "::1", port: 7001, weight: 2, draining: true, leaving: "shutdown"))
        #expect(!same.changed && !same.structural)
        let flags = member.take(MemberRecord(id: "chat-1", host: "::1", port: 7001, weight: 2))
        #expect(flags.changed && !flags.structural && !member.peer.draining && !member.peer.leaving && member.leavingReason == nil)
        let moved = member.take(MemberRecord(id: "chat-1", host: "10.0.0.9", port: 7002, weight: 5))
        #expect(moved.changed && moved.structural && member.address == "10.0.0.9:7002" && member.peer.weight == 5)
    }

    @Test("the pool keeps the feed's state: stale, fed once, the read error; only a change of staleness is news")
    func feedState() {
        let pool = MemberPool(configuration: UpstreamConfiguration(
            name: "chat", zookeeper: ZooKeeperSource(connectString: "127.0.0.1:2181", path: "/m", panicThreshold: 0)))
        #expect(pool.membership == MembershipState())
        let record = MemberRecord(id: "chat-1", host: "127.0.0.1", port: 7001)
        #expect(pool.apply(MembershipSnapshot(members: [record])).freshnessChanged)
        #expect(pool.membership == MembershipState(stale: false, hasSnapshot: true, error: nil))
        #expect(!pool.apply(MembershipSnapshot(members: [record])).freshnessChanged)
        let denied = MembershipSnapshot(members: [record], stale: true, error: .failed("NOAUTH"))
        #expect(pool.apply(denied).freshnessChanged)
        #expect(pool.membership.stale && pool.membership.error == "\(MembershipReadError.failed("NOAUTH"))")
        pool.membershipFailed("bad auth file")
        #expect(pool.membership.error == "bad auth file" && pool.status().count == 1)
    }
}
