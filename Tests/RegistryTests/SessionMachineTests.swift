@testable import Registry
import Testing

/// The session state machine, exactly, without ZooKeeper: events in, actions out.
@Suite("session state machine")
struct SessionMachineTests {
    /// A machine whose first handle is open.
    static func started() -> SessionMachine {
        var machine = SessionMachine()
        #expect(machine.nextHandle() == 1)
        return machine
    }

    @Test func connectsOnceAndIgnoresRepeats() {
        var machine = Self.started()
        #expect(machine.state == .connecting)
        #expect(machine.received(.connected(sessionID: 5), from: 1) == [.publish(.connected), .log(.connected(sessionID: 5))])
        #expect(machine.sessionID == 5)
        #expect(machine.received(.connected(sessionID: 5), from: 1) == [])
    }

    @Test func aDisconnectKeepsTheSessionAndReconnectingIsNoNewSession() {
        var machine = Self.started()
        _ = machine.received(.connected(sessionID: 5), from: 1)
        #expect(machine.received(.connecting, from: 1) == [.publish(.connecting), .log(.connectionLost)])
        #expect(machine.sessionID == 5)
        #expect(machine.received(.connected(sessionID: 5), from: 1) == [.publish(.connected), .log(.connected(sessionID: 5))])
    }

    @Test func anExpiryAsksForOneRenewalAndTheNewSessionIsLoggedAsSuch() throws {
        var machine = Self.started()
        _ = machine.received(.connected(sessionID: 5), from: 1)
        #expect(machine.received(.expired, from: 1) == [.publish(.expired), .log(.expired), .renewSession])
        #expect(machine.received(.expired, from: 1) == [])
        let started = machine.renewalStarted()
        let renewal = try #require(started)
        #expect(renewal.generation == 2)
        #expect(renewal.actions == [.publish(.connecting)])
        #expect(machine.state == .connecting)
        // The expired handle's late events no longer count.
        #expect(machine.received(.connected(sessionID: 5), from: 1) == [])
        #expect(machine.received(.connected(sessionID: 9), from: 2) == [.publish(.connected), .log(.newSession(sessionID: 9))])
        #expect(machine.sessionID == 9)
        // A second expiry renews again.
        #expect(machine.received(.expired, from: 2) == [.publish(.expired), .log(.expired), .renewSession])
    }

    @Test func authFailureIsPublished() {
        var machine = Self.started()
        #expect(machine.received(.authFailed, from: 1) == [.publish(.authFailed), .log(.authFailed)])
        #expect(machine.state == .authFailed)
    }

    @Test func closingIsTerminalAndOnce() {
        var machine = Self.started()
        _ = machine.received(.connected(sessionID: 5), from: 1)
        _ = machine.received(.expired, from: 1)
        #expect(machine.close() == [.publish(.closed), .closeHandle])
        #expect(machine.close() == [])
        #expect(machine.received(.connected(sessionID: 7), from: 1) == [])
        let renewal = machine.renewalStarted()
        #expect(renewal == nil)
        #expect(machine.nextHandle() == nil)
        #expect(machine.state == .closed)
    }

    @Test func aSessionIDOfZeroDoesNotReplaceTheKnownOne() {
        var machine = Self.started()
        _ = machine.received(.connected(sessionID: 5), from: 1)
        _ = machine.received(.connecting, from: 1)
        #expect(machine.received(.connected(sessionID: 0), from: 1) == [.publish(.connected), .log(.connected(sessionID: 5))])
        #expect(machine.sessionID == 5)
    }
}
