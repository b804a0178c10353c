import Logging
import Registry
import Testing
@testable import ServerAgent

/// Records the `leaving` reasons the coordinator gives the registration.
final class LeavingRegistration: RegistrationControl {
    private let log = Locked<[String?]>([])
    var reasons: [String?] { log.withLock { $0 } }
    func setActive(_ active: Bool) { setActive(active, leaving: nil) }
    func setActive(_ active: Bool, leaving: String?) { log.withLock { $0.append(active ? "active" : leaving) } }
    func update(_ record: MemberRecord) {}
}

@Suite("Member coordinator: leaving reasons")
struct LeavingReasonTests {
    let start = ContinuousClock.Instant.now

    func make() -> (MemberCoordinator, LeavingRegistration) {
        let registration = LeavingRegistration()
        let coordinator = MemberCoordinator(
            record: MemberRecord(id: "m", host: "127.0.0.1", port: 6000), rise: 1, fall: 1, registration: registration,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), start: start)
        return (coordinator, registration)
    }

    @Test func failedChecksLeaveWithTheLastFailure() {
        let (coordinator, registration) = make()
        coordinator.record(.healthy, at: start)
        coordinator.record(.unhealthy("connection refused"), at: start + .milliseconds(100))
        #expect(registration.reasons == ["active", "health: connection refused"])
    }

    @Test func aChildExitLeavesWithItsStatus() {
        let (coordinator, registration) = make()
        coordinator.record(.healthy, at: start)
        coordinator.serverExited(reason: "server process exited with status 3", at: start + .milliseconds(100))
        #expect(registration.reasons == ["active", "child exited with status 3"])
    }
}
