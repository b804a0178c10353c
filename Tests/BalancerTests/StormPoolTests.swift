import Foundation
import Testing

@testable import Balancer
import Registry

/// Issue #11's pure logic: panic threshold, leave vs lost, slow start and flap damping, on an
/// injected clock.
@Suite("Upstream pool: membership storms")
struct StormPoolTests {
    static func source(
        panic: Int = 50, suspectTimeout: Duration = .seconds(600), slowStart: Duration = .zero,
        flap: FlapDamping = .disabled
    ) -> ZooKeeperSource {
        ZooKeeperSource(
            connectString: "127.0.0.1:2181", path: "/muster/services/chat", panicThreshold: panic,
            suspectTimeout: suspectTimeout, slowStart: slowStart, flapDamping: flap)
    }

    /// chat-1, chat-2 and chat-3 registered, then chat-3 lost: 2 of 3 remain, a plain removal.
    static func threeLosingOne(clock: ManualClock) -> MemberPool {
        let pool = pool(source(), clock: clock)
        pool.applyMembership(members(1, 2, 3), stale: false)
        #expect(pool.applyMembership(members(1, 2), stale: false).removed == [.discovered("chat-3")])
        return pool
    }

    static func pool(_ source: ZooKeeperSource, clock: ManualClock, method: BalancingMethod = .roundRobin) -> MemberPool {
        MemberPool(
            configuration: UpstreamConfiguration(name: "chat", method: method, zookeeper: source), now: clock.source,
            wallClock: { Date(timeIntervalSince1970: 1_800_000_000) })
    }

    static func member(_ n: Int, weight: Int = 1, leaving: String? = nil) -> MemberRecord {
        MemberRecord(id: "chat-\(n)", host: "127.0.0.1", port: 7000 + n, weight: weight, leaving: leaving)
    }

    static func members(_ ns: Int...) -> [MemberRecord] { ns.map { member($0) } }

    static func states(_ pool: MemberPool) -> [String] { pool.status().map { "\($0.id.dropFirst(3))=\($0.state)" } }

    // MARK: panic threshold

    @Test("losing 3 of 4 enters panic: the lost stay as suspects and are picked; registering again makes them normal; back above the threshold the rest drain")
    func panicEnterAndLeave() throws {
        let clock = ManualClock()
        let pool = Self.pool(Self.source(), clock: clock)
        pool.applyMembership(Self.members(1, 2, 3, 4), stale: false)
        let lost = pool.applyMembership(Self.members(1), stale: false)
        #expect(lost.removed.isEmpty)
        #expect(lost.suspected == [.discovered("chat-2"), .discovered("chat-3"), .discovered("chat-4")])
        #expect(pool.storm() == StormStatus(panicking: true, panicEntries: 1, ejections: 0))
        #expect(Self.states(pool) == ["chat-1=up", "chat-2=suspect", "chat-3=suspect", "chat-4=suspect"])
        #expect(PickerRoundRobinTests.sequence(pool, 8) == [7001, 7002, 7003, 7004, 7001, 7002, 7003, 7004])
        clock.advance(by: .seconds(12))
        let suspect = try #require(pool.status().first { $0.id == "zk:chat-2" })
        #expect(suspect.reason == "registration lost 12s ago; kept: 1 of 4 registered, panic threshold 50%")
        #expect(suspect.since == Date(timeIntervalSince1970: 1_800_000_000 - 12).formatted(.iso8601))

        // chat-2 registers again: normal. 2 of 4 is not below 50%: the other suspects drain.
        let back = pool.applyMembership(Self.members(1, 2), stale: false)
        #expect(back.removed == [.discovered("chat-4"), .discovered("chat-3")])
        #expect(Self.states(pool) == ["chat-1=up", "chat-2=up"])
        #expect(pool.storm().panicking == false)
        #expect(pool.storm().panicEntries == 1)
    }

    @Test("one lost of three is a plain removal; panic_threshold=0 never keeps suspects")
    func belowThresholdOrDisabled() {
        let clock = ManualClock()
        let pool = Self.threeLosingOne(clock: clock)
        #expect(pool.storm().panicking == false)

        let off = Self.pool(Self.source(panic: 0), clock: clock)
        off.applyMembership(Self.members(1, 2, 3), stale: false)
        #expect(off.applyMembership([], stale: false).removed.count == 3)
        #expect(off.pick(clientAddress: nil) == nil)
    }

    @Test("a deleted members path (an empty authoritative set) counts as all lost: everyone is still served")
    func deletedPath() {
        let clock = ManualClock()
        let pool = Self.pool(Self.source(), clock: clock)
        pool.applyMembership(Self.members(1, 2), stale: false)
        let change = pool.applyMembership([], stale: false)
        #expect(change.suspected.count == 2 && change.removed.isEmpty)
        #expect(PickerRoundRobinTests.sequence(pool, 4) == [7001, 7002, 7001, 7002])
    }

    @Test("a failed connect removes a suspect at once; the others stay")
    func failedConnectRemovesSuspect() throws {
        let clock = ManualClock()
        let pool = Self.pool(Self.source(), clock: clock)
        pool.applyMembership(Self.members(1, 2, 3), stale: false)
        pool.applyMembership([], stale: false)
        let pick = try #require(pool.pick(clientAddress: nil))
        #expect(pick.port == 7001)
        #expect(pool.connectFailed(pick.id, reason: "connection refused"))
        #expect(Self.states(pool) == ["chat-2=suspect", "chat-3=suspect"])
        #expect(PickerRoundRobinTests.sequence(pool, 4) == [7002, 7003, 7002, 7003])
    }

    @Test("suspects are removed after suspect_timeout")
    func suspectTimeout() {
        let clock = ManualClock()
        let pool = Self.pool(Self.source(suspectTimeout: .seconds(60)), clock: clock)
        pool.applyMembership(Self.members(1, 2), stale: false)
        pool.applyMembership([], stale: false)
        clock.advance(by: .seconds(59))
        #expect(pool.status().count == 2)
        clock.advance(by: .seconds(1))
        #expect(pool.pick(clientAddress: nil) == nil)
        #expect(pool.status().isEmpty)
        #expect(pool.storm().panicking == false)
    }

    @Test("stale snapshots never make suspects")
    func staleNoSuspects() {
        let pool = Self.pool(Self.source(), clock: ManualClock())
        pool.applyMembership(Self.members(1, 2), stale: false)
        let change = pool.applyMembership([], stale: true)
        #expect(change.suspected.isEmpty && change.keptBecauseStale)
        #expect(Self.states(pool) == ["chat-1=up", "chat-2=up"])
    }

    // MARK: leave vs lost

    @Test("a leaving member takes no new connections at once, is removed when its node goes, and never counts as lost")
    func leaving() throws {
        let pool = Self.pool(Self.source(), clock: ManualClock())
        pool.applyMembership(Self.members(1, 2), stale: false)
        let marked = pool.applyMembership([Self.member(1), Self.member(2, leaving: "shutdown")], stale: false)
        #expect(marked.leaving == [.discovered("chat-2")])
        let status = try #require(pool.status().last)
        #expect(status.state == "leaving" && status.reason == "shutdown")
        #expect(PickerRoundRobinTests.sequence(pool, 3) == [7001, 7001, 7001])
        let gone = pool.applyMembership(Self.members(1), stale: false)
        #expect(gone.removed == [.discovered("chat-2")] && gone.suspected.isEmpty)

        // Every member leaving on purpose: the group empties, no panic.
        pool.applyMembership([Self.member(1, leaving: "health: connect refused")], stale: false)
        let all = pool.applyMembership([], stale: false)
        #expect(all.removed == [.discovered("chat-1")] && all.suspected.isEmpty)
        #expect(pool.storm().panicking == false)
        #expect(pool.pick(clientAddress: nil) == nil)
    }

    // MARK: slow start

    @Test("slow start: a joining member ramps from 10% to 100% over T, with exact round robin sequences")
    func slowStartRoundRobin() {
        let clock = ManualClock()
        let pool = Self.pool(Self.source(slowStart: .seconds(10)), clock: clock)
        pool.applyMembership(Self.members(1, 2), stale: false)
        pool.applyMembership(Self.members(1, 2, 3), stale: false)
        #expect(pool.status().map(\.state) == ["up", "up", "slow_start"])
        #expect(pool.status().last?.reason == "10%")
        // Weights 1000, 1000, 100 (per mille): chat-3 gets 1 pick in 21.
        let first = PickerRoundRobinTests.sequence(pool, 21)
        #expect(first.filter { $0 == 7003 }.count == 1)
        #expect(first.filter { $0 == 7001 }.count == 10)
        clock.advance(by: .seconds(5))
        #expect(pool.status().last?.reason == "55%")
        // 1000, 1000, 550: chat-3 gets 11 in 51.
        let middle = PickerRoundRobinTests.sequence(pool, 51)
        #expect(middle.filter { $0 == 7003 }.count == 11)
        clock.advance(by: .seconds(5))
        #expect(pool.status().map(\.state) == ["up", "up", "up"])
        let full = PickerRoundRobinTests.sequence(pool, 30)
        #expect(full.filter { $0 == 7003 }.count == 10)
    }

    @Test("slow start: the first snapshot (balancer start) does not ramp; a member back from unavailable does")
    func slowStartAfterUnavailable() throws {
        let clock = ManualClock()
        var source = Self.source(slowStart: .seconds(10))
        source.maxFails = 1
        source.failTimeout = .seconds(5)
        let pool = Self.pool(source, clock: clock)
        pool.applyMembership(Self.members(1, 2), stale: false)
        #expect(pool.status().map(\.state) == ["up", "up"])
        let pick = try #require(pool.pick(clientAddress: nil))
        pool.connectFailed(pick.id, reason: "refused")
        #expect(pool.status().first?.state == "unavailable")
        clock.advance(by: .seconds(6))
        // The trial connection after fail_timeout succeeds: back, ramping from 10%.
        let trial = try #require(pool.pick(clientAddress: nil, excluding: [.discovered("chat-2")]))
        pool.connectSucceeded(trial.id)
        pool.connectionClosed(trial.id)
        #expect(pool.status().first?.state == "slow_start")
        #expect(pool.status().first?.reason == "10%")
    }

    @Test("slow start with least_conn: a ramping member counts its connections at its ramped weight")
    func slowStartLeastConn() throws {
        let clock = ManualClock()
        let pool = Self.pool(Self.source(slowStart: .seconds(10)), clock: clock, method: .leastConn)
        pool.applyMembership(Self.members(1, 2), stale: false)
        pool.applyMembership(Self.members(1, 2, 3), stale: false)
        // Held connections: chat-3 at 10% takes one connection per ten on each full member.
        var counts: [Int: Int] = [:]
        for _ in 0..<42 {
            let pick = try #require(pool.pick(clientAddress: nil))
            pool.connectSucceeded(pick.id)
            counts[pick.port, default: 0] += 1
        }
        #expect(counts[7003] == 2)
        #expect(counts[7001] == 20 && counts[7002] == 20)
    }

    @Test("hash methods ignore slow start")
    func slowStartHash() {
        let clock = ManualClock()
        let pool = Self.pool(Self.source(slowStart: .seconds(10)), clock: clock, method: .hash(consistent: false))
        pool.applyMembership(Self.members(1), stale: false)
        pool.applyMembership(Self.members(1, 2), stale: false)
        let ports = Set((0..<50).compactMap { n -> Int? in
            let pick = pool.pick(clientAddress: "10.0.0.\(n)")
            if let pick { pool.connectionClosed(pick.id) }
            return pick?.port
        })
        #expect(ports == [7001, 7002])
    }

    // MARK: flap damping

    @Test("flap damping: the fifth change in 60s holds the member out 30s, the next ejection 60s, reset after 5m stable; never empties the group")
    func dampingTimeline() throws {
        let clock = ManualClock()
        let pool = Self.pool(Self.source(panic: 0, flap: FlapDamping()), clock: clock)
        pool.applyMembership(Self.members(1, 2), stale: false)
        var present = true
        func flap(_ times: Int) {
            for _ in 0..<times {
                clock.advance(by: .seconds(1))
                present.toggle()
                pool.applyMembership(present ? Self.members(1, 2) : Self.members(1), stale: false)
            }
        }
        // Out, in, out, in: four changes, not damped.
        flap(4)
        #expect(Self.states(pool) == ["chat-1=up", "chat-2=up"])
        // The fifth (out) ejects; back in while held: damped.
        flap(1)
        flap(1)  // in again, held: not counted
        let damped = try #require(pool.status().last)
        #expect(damped.state == "damped")
        #expect(damped.reason == "5 changes in 60s; back at \(Date(timeIntervalSince1970: 1_800_000_000 + 29).formatted(.iso8601))")
        #expect(pool.storm().ejections == 1)
        #expect(PickerRoundRobinTests.sequence(pool, 3) == [7001, 7001, 7001])
        clock.advance(by: .seconds(29))
        #expect(Self.states(pool) == ["chat-1=up", "chat-2=up"])

        // Five more changes: the second ejection holds 60s.
        flap(5)
        flap(1)
        #expect(pool.status().last?.state == "damped")
        clock.advance(by: .seconds(58))
        #expect(pool.status().last?.state == "damped")
        clock.advance(by: .seconds(1))
        #expect(pool.status().last?.state == "up")

        // Never empties the group: chat-1 gone, the damped chat-2 still serves.
        flap(5)
        flap(1)
        #expect(pool.status().last?.state == "damped")
        pool.applyMembership(Self.members(2), stale: false)
        #expect(PickerRoundRobinTests.sequence(pool, 2) == [7002, 7002])

        // Stable for 5m: the count resets, the next ejection is 30s again.
        clock.advance(by: .seconds(400))
        pool.applyMembership(Self.members(1, 2), stale: false)
        #expect(Self.states(pool) == ["chat-2=up", "chat-1=up"])
        clock.advance(by: .seconds(300))
        flap(6)
        #expect(pool.status().first { $0.id == "zk:chat-2" }?.state == "damped")
        clock.advance(by: .seconds(30))
        #expect(pool.status().first { $0.id == "zk:chat-2" }?.state == "up")
        #expect(pool.storm().ejections == 4)
    }

    @Test("the damper alone: limit, window and growing hold-downs")
    func damper() {
        var damper = FlapDamper(settings: FlapDamping(limit: 2, window: .seconds(10), hold: .seconds(5), maxHold: .seconds(12)))
        let id = MemberID.discovered("x")
        #expect(damper.change(id, at: .seconds(0)) == nil)
        #expect(damper.change(id, at: .seconds(1)) == nil)
        #expect(damper.change(id, at: .seconds(11)) == nil)
        // The change at 1s falls out of the 10s window: still two.
        #expect(damper.change(id, at: .seconds(12)) == nil)
        #expect(damper.change(id, at: .seconds(13)) == .seconds(18))
        #expect(damper.change(id, at: .seconds(14)) == nil)  // held: not counted
        #expect(damper.heldUntil(id, at: .seconds(17)) == .seconds(18))
        #expect(damper.heldUntil(id, at: .seconds(18)) == nil)
        for t in [18, 19] { #expect(damper.change(id, at: .seconds(t)) == nil) }
        #expect(damper.change(id, at: .seconds(20)) == .seconds(30))  // second ejection: 2 x 5s
        for t in [30, 31] { #expect(damper.change(id, at: .seconds(t)) == nil) }
        #expect(damper.change(id, at: .seconds(32)) == .seconds(44))  // third: 15s capped at 12s
        // Stable for maxHold: back to the base hold.
        for t in [60, 61] { #expect(damper.change(id, at: .seconds(t)) == nil) }
        #expect(damper.change(id, at: .seconds(62)) == .seconds(67))
        #expect(damper.ejections == 4)
    }
}

@Suite("Upstream pool: storms that arrive snapshot by snapshot")
struct StormSequenceTests {
    @Test("losses spread over several snapshots within a session timeout are judged together")
    func sequentialLosses() {
        let clock = ManualClock()
        let pool = StormPoolTests.threeLosingOne(clock: clock)
        clock.advance(by: .seconds(2))
        // chat-2 lost too: 1 of 3 registered, below 50%: both come back as suspects.
        let change = pool.applyMembership(StormPoolTests.members(1), stale: false)
        #expect(Set(change.suspected) == [.discovered("chat-2"), .discovered("chat-3")])
        #expect(StormPoolTests.states(pool) == ["chat-1=up", "chat-2=suspect", "chat-3=suspect"])
        #expect(PickerRoundRobinTests.sequence(pool, 3).sorted() == [7001, 7002, 7003])
    }

    @Test("a loss older than the session timeout is not counted again (a kill -9 stays removed)")
    func oldLossForgotten() {
        let clock = ManualClock()
        let pool = StormPoolTests.pool(StormPoolTests.source(), clock: clock)
        pool.applyMembership(StormPoolTests.members(1, 2, 3, 4), stale: false)
        #expect(pool.applyMembership(StormPoolTests.members(1, 2, 3), stale: false).removed == [.discovered("chat-4")])
        clock.advance(by: .seconds(11))
        // 2 of 3 after the earlier loss is forgotten: plain removal.
        #expect(pool.applyMembership(StormPoolTests.members(1, 2), stale: false).removed == [.discovered("chat-3")])
        #expect(pool.storm().panicking == false)
    }
}
