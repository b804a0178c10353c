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
}
