import Testing

@testable import ProxyEngine

/// `proxy_buffer_size` in the session's decisions: the most queued for a side before its peer is no
/// longer read, clamped to the engine's 64 KiB chunk.
@Suite("Session buffer limit")
struct SessionBufferLimitTests {
    @Test(
        "a side is read only while its peer has less than the buffer limit pending",
        arguments: [
            (configured: 4096, effective: 4096),
            (configured: 1, effective: 1),
            (configured: 16 * 1024, effective: 16 * 1024),
            (configured: 1 << 30, effective: 64 * 1024),
            (configured: 0, effective: 1),
        ])
    func limit(configured: Int, effective: Int) {
        var state = SessionState(halfClose: true, idleTimeout: 0, bufferLimit: configured, now: 0)
        state.connecting(deadline: 1_000)
        state.connected(now: 0)
        #expect(state.bufferLimit == effective)
        state.setPending(.client, effective - 1)
        #expect(state.readAllowed(.upstream))
        state.setPending(.client, effective)
        #expect(!state.readAllowed(.upstream))
        #expect(state.readAllowed(.client))
        state.setPending(.client, 0)
        #expect(state.readAllowed(.upstream))
    }

    @Test("unset, the limit is the 64 KiB chunk")
    func defaultLimit() {
        #expect(SessionState(halfClose: false, idleTimeout: 0, now: 0).bufferLimit == SessionState.backpressureLimit)
        #expect(RouteSettings(connectTimeout: 1, idleTimeout: 0, halfClose: false).bufferSize == SessionState.backpressureLimit)
    }
}
