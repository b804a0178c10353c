import Testing

@testable import ProxyEngine

/// The session's decisions with an exact clock (milliseconds), no sockets.
@Suite("Session state")
struct SessionStateTests {
    /// A session connected at `now`, with `clientPending` bytes queued for the client.
    private func established(halfClose: Bool, idle: Int64 = 0, now: Int64 = 0, clientPending: Int = 0) -> SessionState {
        var state = SessionState(halfClose: halfClose, idleTimeout: idle, now: now)
        state.connecting(deadline: now + 1_000)
        state.connected(now: now)
        state.setPending(.client, clientPending)
        return state
    }

    /// proxy_half_close off, the client's EOF at `now`: the client is closed, the upstream gets its FIN
    /// and lingers.
    private func lingering(since now: Int64, sourceLocation: SourceLocation = #_sourceLocation) -> SessionState {
        var state = self.established(halfClose: false)
        state.inputEnded(.client, now: now)
        #expect(self.drain(&state, now: now) == [.close(.client), .shutdownWrite(.upstream)], sourceLocation: sourceLocation)
        return state
    }

    private func drain(_ state: inout SessionState, now: Int64 = 0) -> [SessionState.Action] {
        var actions: [SessionState.Action] = []
        while let action = state.nextAction(now: now), actions.count < 10 {
            actions.append(action)
        }
        return actions
    }

    @Test("connecting: nothing is read, the connect deadline is the timer, and it fires as a timeout")
    func connecting() {
        var state = SessionState(halfClose: true, idleTimeout: 600_000, now: 0)
        state.connecting(deadline: 300)
        #expect(!state.readAllowed(.client))
        #expect(state.deadline() == 300)
        #expect(state.expired(now: 299) == .rearm(300))
        #expect(state.expired(now: 300) == .connectTimedOut)
    }

    @Test("backpressure: a side is read only while its peer has less than 64 KiB pending")
    func backpressure() {
        var state = self.established(halfClose: true)
        #expect(state.readAllowed(.upstream))
        state.setPending(.client, 64 * 1024 - 1)
        #expect(state.readAllowed(.upstream))
        state.setPending(.client, 64 * 1024)
        #expect(!state.readAllowed(.upstream))
        #expect(state.readAllowed(.client))
        state.setPending(.client, 0)
        #expect(state.readAllowed(.upstream))
    }

    @Test("proxy_half_close on: an EOF becomes a FIN after the pending bytes; both EOFs close both")
    func halfCloseOn() {
        var state = self.established(halfClose: true)
        state.setPending(.upstream, 10)
        state.inputEnded(.client, now: 5)
        #expect(!state.readAllowed(.client))
        #expect(state.readAllowed(.upstream))
        #expect(self.drain(&state).isEmpty)  // the FIN waits for the 10 bytes
        state.setPending(.upstream, 0)
        #expect(self.drain(&state) == [.shutdownWrite(.upstream)])
        state.inputEnded(.upstream, now: 6)
        #expect(self.drain(&state) == [.shutdownWrite(.client), .close(.client), .close(.upstream)])
        #expect(state.phase == .closed)
    }

    @Test("proxy_half_close off: an EOF ends the session; the peer gets a FIN and lingers until its EOF")
    func halfCloseOff() {
        var state = self.lingering(since: 100)
        #expect(state.phase == .established)
        // The member's late bytes are read and dropped.
        #expect(state.readAllowed(.upstream))
        #expect(state.discards(.upstream))
        #expect(state.deadline() == 100 + SessionState.lingerLimit)
        state.inputEnded(.upstream, now: 200)
        #expect(self.drain(&state, now: 200) == [.close(.upstream)])
        #expect(state.phase == .closed)
    }

    @Test("proxy_half_close off: a peer found to hold all it was sent is closed at once instead of lingering")
    func lingerNotNeeded() {
        var state = self.lingering(since: 100)
        state.lingerNotNeeded(.upstream)
        #expect(!state.readAllowed(.upstream))
        #expect(self.drain(&state, now: 100) == [.close(.upstream)])
        #expect(state.phase == .closed)
        #expect(state.deadline() == nil)
    }

    @Test("proxy_half_close off: a lingering peer that never ends is closed at the linger limit")
    func lingerLimit() {
        var state = self.established(halfClose: false)
        state.inputEnded(.upstream, now: 0)
        #expect(self.drain(&state) == [.shutdownWrite(.client), .close(.upstream)])
        #expect(state.expired(now: SessionState.lingerLimit - 1) == .rearm(SessionState.lingerLimit))
        #expect(state.expired(now: SessionState.lingerLimit) == .closeNow(.client))
        #expect(self.drain(&state, now: SessionState.lingerLimit) == [.close(.client)])
        #expect(state.phase == .closed)
    }

    @Test("proxy_half_close off: the side that ended is closed only once what is queued for it is written")
    func closeAfterFlush() {
        var state = self.established(halfClose: false, clientPending: 500)
        state.inputEnded(.client, now: 0)
        #expect(self.drain(&state) == [.shutdownWrite(.upstream)])
        #expect(state.deadline() == SessionState.lingerLimit)
        state.setPending(.client, 0)
        #expect(self.drain(&state) == [.close(.client)])
    }

    @Test("an error on one side closes it at once; the peer closes after its pending bytes")
    func error() {
        var state = self.established(halfClose: true, clientPending: 20)
        state.failed(.upstream, now: 0)
        #expect(self.drain(&state) == [.close(.upstream)])
        #expect(!state.readAllowed(.client))
        state.setPending(.client, 0)
        #expect(self.drain(&state) == [.close(.client)])
        #expect(state.phase == .closed)
    }

    @Test("proxy_timeout: activity pushes the deadline; silence closes both sides")
    func idle() {
        var state = self.established(halfClose: true, idle: 3_000, now: 0)
        #expect(state.deadline() == 3_000)
        state.received(from: .client, now: 2_000)
        // The timer armed for 3000 fires early and moves to the new deadline.
        #expect(state.expired(now: 3_000) == .rearm(5_000))
        #expect(state.expired(now: 5_000) == .idle)
        #expect(self.drain(&state, now: 5_000) == [.close(.client), .close(.upstream)])
    }
}
