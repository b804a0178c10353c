import Testing

@testable import ProxyEngine

/// The record a worker leaves in its `SessionLog` ring when a session ends.
@Suite("Worker session records", .timeLimit(.minutes(1)))
struct WorkerSessionRecordTests {
    private static func records(_ log: SessionLog) -> [SessionRecord] {
        var out: [SessionRecord] = []
        log.drain { out.append(copy $0) }
        return out
    }

    @Test("a proxied session: status 200, bytes on both sides, one try with its member's address and times, a serial")
    func proxied() throws {
        let log = SessionLog(workers: 1, needsServerAddress: false)
        let (worker, client, member) = try WorkerSocketpairTests.start(halfClose: false, log: log)
        let port = Int(RecordAddress(worker.route.address.storage).port)
        worker.write(client, "hello")
        #expect(worker.read(member, 5).bytes == Array("hello".utf8))
        worker.write(member, "world!")
        #expect(worker.read(client, 6).bytes == Array("world!".utf8))
        #expect(Self.records(log).isEmpty)
        worker.close(member)
        // The member's EOF ends the session; the client, lingering, ends it with its own.
        #expect(worker.read(client, 1).bytes.isEmpty)
        worker.close(client)
        #expect(worker.sessionsEnded())
        worker.closeAll()
        let records = Self.records(log)
        #expect(records.count == 1)
        guard let record = records.first else { return }
        #expect(record.status == 200)
        #expect(record.serial == 1)
        #expect(record.bytesReceived == 5)
        #expect(record.bytesSent == 6)
        #expect(record.attempts == 1)
        let attempt = record.tries[0]
        #expect(attempt.address.family == .inet)
        #expect(attempt.address.port == UInt16(port))
        #expect(attempt.address.addressBytes == [127, 0, 0, 1])
        #expect(attempt.bytesSent == 5)
        #expect(attempt.bytesReceived == 6)
        #expect(attempt.connectTime >= 0)
        #expect(attempt.firstByteTime >= attempt.connectTime)
        #expect(attempt.sessionTime >= attempt.firstByteTime)
        #expect(record.end >= record.start)
    }

    /// A socketpair client whose session ends within `adopt` (no member can be had).
    private static func adoptEndingAtOnce(_ worker: WorkerHarness) {
        let client = worker.client()
        #expect(worker.core.openSessions == 0)
        worker.close(client)
    }

    @Test("no live member: status 502, one try with no address that names the group (nginx's NGX_BUSY); a listener without a log records nothing")
    func noLiveUpstreams() throws {
        let route = TestRoute(hasMembers: false)
        let log = SessionLog(workers: 1, needsServerAddress: false)
        route.sessionLog = log
        let worker = try WorkerHarness(route: route)
        for round in 0..<2 {
            Self.adoptEndingAtOnce(worker)
            if round == 0 { route.sessionLog = nil }
        }
        worker.closeAll()
        let records = Self.records(log)
        #expect(records.count == 1)
        #expect(records.first?.status == 502)
        #expect(records.first?.attempts == 1)
        let attempt = try #require(records.first?.tries.first)
        #expect(attempt.noLiveMember && attempt.address.family == .none)
        #expect(attempt.connectTime == -1 && attempt.firstByteTime == -1 && attempt.sessionTime == 0)
    }

    @Test("a member that fails, then no pick: a try for the group only while nginx's tries (members not down) are left")
    func noLiveAfterFailure() throws {
        for peerTries in [1, 2] {
            let route = TestRoute()
            // An address the worker cannot dial fails the try at once, with no socket.
            route.address = EngineAddress()
            route.peerTries = peerTries
            let log = SessionLog(workers: 1, needsServerAddress: false)
            route.sessionLog = log
            let worker = try WorkerHarness(route: route)
            Self.adoptEndingAtOnce(worker)
            worker.closeAll()
            #expect(route.events == ["pick", "failed", "pick", "none"])
            let record = try #require(Self.records(log).first)
            #expect(record.status == 502)
            // One member not down (nginx-tests' stream_proxy_next_upstream.t, "next down log"): its
            // failed try alone. Two: the second pick found nobody, so the group is named too.
            #expect(record.tries.map(\.noLiveMember) == (peerTries == 1 ? [false] : [false, true]), "peerTries \(peerTries)")
        }
    }

    @Test("a full ring drops the record and counts it; the worker goes on")
    func fullRing() {
        let ring = RecordRing(capacity: 16, filler: SessionRecord())
        var record = SessionRecord()
        for serial in 1...17 {
            record.serial = UInt64(serial)
            ring.push(record)
        }
        #expect(ring.dropped.load(ordering: .relaxed) == 1)
        var serials: [UInt64] = []
        ring.drain { serials.append($0.serial) }
        #expect(serials == Array(1...16))
        #expect(ring.push(record))
    }

    @Test("more tries than the record keeps: the last four stay, in order, and all are counted")
    func manyTries() {
        var record = SessionRecord()
        for port in 1...6 {
            var address = RecordAddress()
            address.family = .inet
            address.port = UInt16(port)
            record.beginTry(address, now: Int64(port * 10))
            record.endTry(now: Int64(port * 10 + 3))
        }
        #expect(record.attempts == 6)
        #expect(record.tries.map(\.address.port) == [3, 4, 5, 6])
        #expect(record.tries.map(\.sessionTime) == [3, 3, 3, 3])
    }
}
