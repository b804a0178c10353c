import NIOCore
import Testing

@testable import Balancer

/// The limiter behind "no live upstreams" and connect-failure log lines.
@Suite("RateLimiter")
struct RateLimiterTests {
    @Test("one admission per interval, with the count of what was suppressed in between")
    func admitsOncePerInterval() {
        let limiter = RateLimiter(interval: .seconds(1))
        let start = NIODeadline.uptimeNanoseconds(10_000_000_000)
        #expect(limiter.admit(now: start) == 0)
        #expect(limiter.admit(now: start + .milliseconds(1)) == nil)
        #expect(limiter.admit(now: start + .milliseconds(999)) == nil)
        #expect(limiter.admit(now: start + .seconds(1)) == 2)
        #expect(limiter.admit(now: start + .milliseconds(1500)) == nil)
        #expect(limiter.admit(now: start + .seconds(5)) == 1)
    }
}
