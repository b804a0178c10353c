import Testing

@testable import ProxyEngine

/// `proxy_upload_rate` and `proxy_download_rate` in the session's decisions, with an exact clock (ms):
/// nginx's arithmetic from `ngx_stream_proxy_process`.
@Suite("Session read rates")
struct SessionRateTests {
    private func established(upload: Int = 0, download: Int = 0, at now: Int64 = 10_000) -> SessionState {
        var state = SessionState(halfClose: false, idleTimeout: 0, uploadRate: upload, downloadRate: download, now: now)
        state.connecting(deadline: now + 1_000)
        state.connected(now: now)
        return state
    }

    @Test("no rate: every read may take all, and nothing waits")
    func unlimited() {
        var state = self.established()
        #expect(state.readRoom(.client, now: 10_000) == .max)
        state.received(from: .client, count: 1_000_000, now: 10_000)
        #expect(state.readAllowed(.client))
        #expect(state.deadline() == nil)
    }

    @Test("a read takes at most the current second's allowance; the bytes read are then paid for in time")
    func allowanceThenDelay() {
        // 250 bytes/s (stream_limit_rate.t's download case): 250 in the first second.
        var state = self.established(download: 250)
        #expect(state.readRoom(.upstream, now: 10_000) == 250)
        state.received(from: .upstream, count: 250, now: 10_000)
        #expect(!state.readAllowed(.upstream))
        #expect(state.readAllowed(.client))
        #expect(state.upstream.delayedUntil == 11_000)
        #expect(state.deadline() == 11_000)
        #expect(state.expired(now: 10_999) == .rearm(11_000))
        #expect(state.expired(now: 11_000) == .readAgain)
        #expect(state.readAllowed(.upstream))
        // Second 2 allows 500 in all, 250 of them taken.
        #expect(state.readRoom(.upstream, now: 11_000) == 250)
        #expect(state.deadline() == nil)
    }

    @Test("over the allowance (a read was not capped): the side waits until the excess is paid, plus 1 ms")
    func overdrawn() {
        var state = self.established(upload: 1_000)
        state.received(from: .client, count: 1_500, now: 10_000)  // paid until 11,500
        #expect(state.expired(now: 11_500) == .readAgain)
        // At 11,500 the allowance is 2 s × 1,000 = 2,000 − 1,500 = 500.
        #expect(state.readRoom(.client, now: 11_500) == 500)
        state.received(from: .client, count: 500, now: 11_500)  // paid until 12,000
        #expect(state.expired(now: 12_000) == .readAgain)
        #expect(state.readRoom(.client, now: 12_000) == 1_000)
        // Nothing left this second: wait for the next.
        state.received(from: .client, count: 999, now: 12_000)
        #expect(state.expired(now: 12_999) == .readAgain)
        #expect(state.readRoom(.client, now: 12_999) == 1)
        state.received(from: .client, count: 1, now: 12_999)
        #expect(state.readRoom(.client, now: 12_999) == 0)
        #expect(state.client.delayedUntil == 13_000)
        #expect(!state.readAllowed(.client))
    }

    @Test("1 byte/s: one byte the first second, the next only a second later")
    func oneByte() {
        var state = self.established(download: 1)
        #expect(state.readRoom(.upstream, now: 10_000) == 1)
        state.received(from: .upstream, count: 1, now: 10_000)
        #expect(state.upstream.delayedUntil == 11_000)
        #expect(!state.readAllowed(.upstream))
    }

    @Test("a lingering side is read and dropped at full speed, whatever its rate")
    func lingeringIsNotLimited() {
        var state = self.established(upload: 1, download: 1)
        state.inputEnded(.client, now: 10_000)
        #expect(state.upstream.lingering)
        #expect(state.readRoom(.upstream, now: 10_000) == .max)
        state.received(from: .upstream, count: 10_000, now: 10_000)
        #expect(state.upstream.delayedUntil == 0)
    }
}
