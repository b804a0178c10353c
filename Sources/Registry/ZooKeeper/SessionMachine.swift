/// The session of a ``ZooKeeperClient`` as a pure state machine: the C handle's session events
/// and the owner's requests go in, the actions to carry out come out. It holds no handle, lock or
/// clock; the client runs it under its lock and carries out the actions.
///
/// Each C handle has a generation; only the current handle's events count, so a late event of a
/// handle being replaced or closed changes nothing. An expiry is answered once with
/// `.renewSession`: the client opens a new handle (a new session) and closes the dead one.
struct SessionMachine: Sendable, Equatable {
    /// A session event of the C handle, mapped at the C boundary.
    enum HandleEvent: Sendable, Equatable {
        case connected(sessionID: Int64)
        case connecting
        case expired
        case authFailed
    }

    enum Action: Sendable, Equatable {
        /// Tell every subscriber the new state.
        case publish(SessionState)
        /// Log the transition.
        case log(Transition)
        /// The session expired: open a handle for a new session, then close the expired one
        /// (call ``renewalStarted()`` when doing so).
        case renewSession
        /// The owner closed the client: close the handle.
        case closeHandle
    }

    /// A transition worth a log line.
    enum Transition: Sendable, Equatable {
        case connected(sessionID: Int64)
        /// Connected with a session other than the one before (the old one expired).
        case newSession(sessionID: Int64)
        case connectionLost
        case expired
        case authFailed
    }

    private(set) var state: SessionState = .connecting
    /// The current session id (0 before the first session is established).
    private(set) var sessionID: Int64 = 0
    /// The generation of the current handle (0 before the first).
    private(set) var generation = 0
    private var renewing = false

    var isClosed: Bool { state == .closed }

    /// A handle is about to be opened: its generation, or nil once closed.
    mutating func nextHandle() -> Int? {
        guard !isClosed else { return nil }
        generation += 1
        return generation
    }

    /// A session event of the handle of `handleGeneration`.
    mutating func received(_ event: HandleEvent, from handleGeneration: Int) -> [Action] {
        guard handleGeneration == generation, !isClosed else { return [] }
        let previousSession = sessionID
        var actions: [Action] = []
        let newState: SessionState
        switch event {
        case .connected(let id):
            if id != 0 { sessionID = id }
            newState = .connected
        case .connecting:
            newState = .connecting
        case .expired:
            newState = .expired
            if !renewing {
                renewing = true
                actions.append(.renewSession)
            }
        case .authFailed:
            newState = .authFailed
        }
        guard newState != state else { return actions }
        state = newState
        // An id of 0 (a read-only connection reports none) is the known session, not a new one.
        let transition: Transition = switch event {
        case .connected where previousSession != 0 && previousSession != sessionID: .newSession(sessionID: sessionID)
        case .connected: .connected(sessionID: sessionID)
        case .connecting: .connectionLost
        case .expired: .expired
        case .authFailed: .authFailed
        }
        return [.publish(newState), .log(transition)] + actions
    }

    /// The renewal that `.renewSession` asked for begins: the generation of the new handle and
    /// the actions, or nil once closed (nothing to renew).
    mutating func renewalStarted() -> (generation: Int, actions: [Action])? {
        renewing = false
        guard let next = nextHandle() else { return nil }
        state = .connecting
        return (next, [.publish(.connecting)])
    }

    /// The owner closes the client; closing twice does nothing.
    mutating func close() -> [Action] {
        guard !isClosed else { return [] }
        state = .closed
        return [.publish(.closed), .closeHandle]
    }
}
