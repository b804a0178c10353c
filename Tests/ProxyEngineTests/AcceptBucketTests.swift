import Testing

@testable import ProxyEngine

@Suite("Accept rate: token bucket")
struct AcceptBucketTests {
    static let ms: Int64 = 1_000_000

    static func take(_ bucket: inout AcceptBucket, _ now: Int64) -> Bool { bucket.admit(at: now) }

    @Test("rate 1000, no burst: one admission per millisecond, exactly")
    func steadyPace() {
        var bucket = AcceptBucket(rate: 1000)
        #expect(Self.take(&bucket, 0))
        #expect(Self.take(&bucket, 0) == false)
        #expect(Self.take(&bucket, Self.ms - 1) == false)
        #expect(bucket.nextAdmission(after: 5) == Self.ms)
        #expect(Self.take(&bucket, Self.ms))
        #expect(Self.take(&bucket, Self.ms) == false)
    }

    @Test("burst=M admits M more at once after an idle spell, then the steady pace")
    func burst() {
        var bucket = AcceptBucket(rate: 100, burst: 3)
        let admitted = (0..<10).filter { _ in bucket.admit(at: 1_000 * Self.ms) }.count
        #expect(admitted == 4)
        #expect(bucket.nextAdmission(after: 1_000 * Self.ms) == 1_010 * Self.ms)
        #expect(Self.take(&bucket, 1_010 * Self.ms))
        #expect(Self.take(&bucket, 1_010 * Self.ms) == false)
    }

    @Test("a storm of attempts: no 1-second window admits more than rate + burst + 1, and the pace is the rate")
    func windows() {
        var bucket = AcceptBucket(rate: 1000, burst: 50)
        var times: [Int64] = []
        var now: Int64 = 0
        // 3,000 clients retried every 100 µs, as a worker re-trying its accept queue would.
        var waiting = 3000
        for _ in 0..<100_000 where waiting > 0 {
            while waiting > 0, bucket.admit(at: now) {
                times.append(now)
                waiting -= 1
            }
            now += Self.ms / 10
        }
        #expect(times.count == 3000)
        var start = 0
        var most = 0
        for end in times.indices {
            while times[end] - times[start] >= 1_000 * Self.ms { start += 1 }
            most = max(most, end - start + 1)
        }
        #expect(most <= 1000 + 50 + 1)
        // All 3,000 in about 3 s less the burst.
        #expect(times.last! < 3_000 * Self.ms)
        #expect(times.last! > 2_900 * Self.ms)
    }

    @Test("a millisecond tick admits the connections due within one millisecond together, and only those")
    func tick() {
        var bucket = AcceptBucket(rate: 10_000, tick: Self.ms)
        let first = (0..<100).filter { _ in bucket.admit(at: 5 * Self.ms) }.count
        #expect(first == 10)
        // A caller that reads a finer clock could take the next one 100 µs later; a worker rounds up
        // to its next millisecond.
        #expect(bucket.nextAdmission(after: 5 * Self.ms) == 5 * Self.ms + Self.ms / 10)
        #expect((0..<100).filter { _ in bucket.admit(at: 6 * Self.ms) }.count == 10)
        // At 1,000/s or less the tick changes nothing.
        var slow = AcceptBucket(rate: 1000, tick: Self.ms)
        #expect(Self.take(&slow, 0))
        #expect(Self.take(&slow, Self.ms - 1) == false)
        #expect(slow == AcceptBucket(rate: 1000).admittingOnce(at: 0))
    }

    @Test("the shared limiter takes and refuses as the bucket does, and a given-back admission is taken again")
    func limiter() {
        let limiter = AcceptLimiter(rate: 100, burst: 3, tick: 1)
        var bucket = AcceptBucket(rate: 100, burst: 3)
        for step in 0..<50 {
            let now = Int64(step) * 3 * Self.ms
            let shared = limiter.take(at: now) != nil
            #expect(shared == Self.take(&bucket, now), "step \(step)")
            #expect(limiter.nextAdmission(after: now) == bucket.nextAdmission(after: now))
        }
        let fresh = AcceptLimiter(rate: 100, burst: 0, tick: 1)
        let receipt = fresh.take(at: 0)
        #expect(receipt == 10 * Self.ms)
        #expect(fresh.take(at: 0) == nil)
        fresh.giveBack(receipt!)
        #expect(fresh.take(at: 0) != nil)
        // A receipt taken over by a later admission stays spent: never more than the rate.
        let later = fresh.take(at: 10 * Self.ms)
        #expect(later == 20 * Self.ms)
        fresh.giveBack(receipt!)
        #expect(fresh.take(at: 10 * Self.ms) == nil)
    }

    @Test("two threads taking from one limiter: exactly rate x T + burst + 1 over T, no more")
    func limiterThreads() async {
        let limiter = AcceptLimiter(rate: 1000, burst: 20, tick: 1)
        // Both threads see the same clock, stepping 100 µs from 0 to 2 s: 2,000 + 20 + 1 admissions.
        let counts = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    var taken = 0
                    for step in 0...20_000 {
                        let now = Int64(step) * Self.ms / 10
                        while limiter.take(at: now) != nil { taken += 1 }
                    }
                    return taken
                }
            }
            return await group.reduce(0, +)
        }
        #expect(counts <= 2000 + 20 + 1)
        #expect(counts >= 2000)
    }
}

extension AcceptBucket {
    fileprivate func admittingOnce(at now: Int64) -> AcceptBucket {
        var copy = self
        _ = copy.admit(at: now)
        return copy
    }
}
