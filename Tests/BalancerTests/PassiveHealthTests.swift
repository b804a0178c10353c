import Testing

@testable import Balancer

@Suite("Passive health (max_fails / fail_timeout)")
struct PassiveHealthTests {
    // Monotonic offsets, as the pool hands them to PassiveHealth.
    let start: Duration = .seconds(1_000)

    @Test("max_fails failures make the member unavailable for exactly fail_timeout")
    func trips() {
        var health = PassiveHealth(maxFails: 3, failTimeout: .seconds(30))
        let tripped1 = health.failed(at: start)
        #expect(!tripped1)
        let tripped2 = health.failed(at: start + .seconds(1))
        #expect(!tripped2)
        #expect(health.isAvailable(at: start + .seconds(2)))
        let tripped3 = health.failed(at: start + .seconds(2))
        #expect(tripped3)
        #expect(!health.isAvailable(at: start + .seconds(2)))
        #expect(!health.isAvailable(at: start + .seconds(32)))  // now - checked <= fail_timeout
        #expect(health.isAvailable(at: start + .seconds(32) + .milliseconds(1)))
    }

    @Test("after fail_timeout one trial decides: success resets, failure restarts the timeout")
    func trial() {
        var health = PassiveHealth(maxFails: 1, failTimeout: .seconds(10))
        health.failed(at: start)
        let later = start + .seconds(11)
        #expect(health.isAvailable(at: later))
        health.picked(at: later)
        // While the trial is out, nobody else gets the member.
        #expect(!health.isAvailable(at: later + .milliseconds(1)))
        var failing = health
        failing.failed(at: later + .seconds(1))
        #expect(!failing.isAvailable(at: later + .seconds(11)))
        #expect(failing.isAvailable(at: later + .seconds(11) + .milliseconds(1)))
        health.succeeded()
        #expect(health.fails == 0)
        #expect(health.isAvailable(at: later + .milliseconds(1)))
    }

    /// max_fails=2 fail_timeout=10s: one failure at `start`, then a pick at `pickedAt` that succeeds.
    func oneFailureThenSuccess(pickedAt: Duration) -> PassiveHealth {
        var health = PassiveHealth(maxFails: 2, failTimeout: .seconds(10))
        health.failed(at: start)
        health.picked(at: pickedAt)
        health.succeeded()
        return health
    }

    @Test("a success inside the window does not wipe earlier failures (nginx's accessed < checked)")
    func successInsideWindow() {
        var health = oneFailureThenSuccess(pickedAt: start + .seconds(1))
        #expect(health.fails == 1)
        let tripped4 = health.failed(at: start + .seconds(2))
        #expect(tripped4)
        #expect(!health.isAvailable(at: start + .seconds(3)))
    }

    @Test("a success on a pick after the window wipes older failures")
    func successAfterWindow() {
        var health = oneFailureThenSuccess(pickedAt: start + .seconds(20))
        #expect(health.fails == 0)
        let tripped5 = health.failed(at: start + .seconds(21))
        #expect(!tripped5)
        #expect(health.isAvailable(at: start + .seconds(21)))
    }

    @Test("max_fails=0 disables passive health")
    func disabled() {
        var health = PassiveHealth(maxFails: 0, failTimeout: .seconds(10))
        for second in 0..<100 {
            let tripped6 = health.failed(at: start + .seconds(second))
            #expect(!tripped6)
        }
        #expect(health.isAvailable(at: start + .seconds(100)))
    }

    @Test("pool: max_fails=3 fail_timeout=30s, timed by an injected clock")
    func poolTiming() throws {
        let clock = ManualClock()
        let pool = MemberPool(configuration: UpstreamConfiguration(name: "u", servers: [
            StaticServer(host: "127.0.0.1", port: 6000, maxFails: 3, failTimeout: .seconds(30)),
            StaticServer(host: "127.0.0.1", port: 6002, maxFails: 3, failTimeout: .seconds(30)),
        ]), now: clock.source)
        let dead = MemberID.staticServer(host: "127.0.0.1", port: 6000)
        var failures = 0
        // Clients keep arriving; every connect to :6000 fails (retried on :6002 by the proxy).
        for _ in 0..<20 {
            let pick = try #require(pool.pick(clientAddress: nil))
            if pick.id == dead {
                failures += 1
                let tripped = pool.connectFailed(pick.id, reason: "connect timed out")
                #expect(tripped == (failures == 3))
            } else {
                pool.connectSucceeded(pick.id)
            }
            clock.advance(by: .milliseconds(100))
        }
        #expect(failures == 3)
        let status = try #require(pool.status().first)
        #expect(status.state == "unavailable")
        #expect(status.failures == 3 && status.lastFailureReason == "connect timed out")
        #expect(status.lastFailure != nil)

        // The third failure was at 0.4s and the clock is at 2.0s. Exactly 30s after that failure the
        // member is still out; one millisecond later one trial goes out.
        clock.advance(by: .seconds(30) - .milliseconds(1600))
        #expect(pool.pick(clientAddress: nil, excluding: [MemberID.staticServer(host: "127.0.0.1", port: 6002)]) == nil)
        clock.advance(by: .milliseconds(1))
        let trial = try #require(pool.pick(clientAddress: nil, excluding: [MemberID.staticServer(host: "127.0.0.1", port: 6002)]))
        #expect(trial.id == dead)
        // Only one trial at a time.
        #expect(pool.pick(clientAddress: nil, excluding: [MemberID.staticServer(host: "127.0.0.1", port: 6002)]) == nil)
        pool.connectFailed(trial.id, reason: "refused")
        clock.advance(by: .seconds(30))
        #expect(pool.status().first?.state == "unavailable")
        clock.advance(by: .milliseconds(1))
        let second = try #require(pool.pick(clientAddress: nil, excluding: [MemberID.staticServer(host: "127.0.0.1", port: 6002)]))
        pool.connectSucceeded(second.id)
        #expect(pool.status().first?.state == "up")
        // Fails were reset: it takes three new failures to trip again.
        #expect(!pool.connectFailed(second.id, reason: "refused"))
    }
}
