import Logging
import Registry
import Testing
@testable import ServerAgent

/// Records what the coordinator asks of the registration.
final class RecordingRegistration: RegistrationControl {
    enum Call: Equatable {
        case setActive(Bool)
        case update(MemberRecord)
    }
    private let log = Locked<[Call]>([])
    var calls: [Call] { log.withLock { $0 } }
    func setActive(_ active: Bool) { log.withLock { $0.append(.setActive(active)) } }
    func update(_ record: MemberRecord) { log.withLock { $0.append(.update(record)) } }
}

@Suite("Member coordinator")
struct MemberCoordinatorTests {
    let record = MemberRecord(id: "127.0.0.1-6000", host: "127.0.0.1", port: 6000, weight: 3, metadata: ["zone": "a"])
    let start = ContinuousClock.Instant.now

    func make(rise: Int = 2, fall: Int = 2) -> (MemberCoordinator, RecordingRegistration) {
        let registration = RecordingRegistration()
        let coordinator = MemberCoordinator(
            record: record, rise: rise, fall: fall, registration: registration,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), start: start)
        return (coordinator, registration)
    }

    @Test func registersAfterRiseAndDeregistersAfterFall() {
        let (coordinator, registration) = make()
        coordinator.record(.healthy, at: start)
        #expect(registration.calls.isEmpty)
        coordinator.record(.healthy, at: start + .milliseconds(100))
        #expect(registration.calls == [.setActive(true)])
        coordinator.record(.unhealthy("refused"), at: start + .milliseconds(200))
        coordinator.record(.unhealthy("refused"), at: start + .milliseconds(300))
        #expect(registration.calls == [.setActive(true), .setActive(false)])
        #expect(coordinator.status == .down)
    }

    @Test func serverExitDeregistersAtOnceAndForever() {
        let (coordinator, registration) = make(fall: 5)
        coordinator.record(.healthy, at: start)
        coordinator.record(.healthy, at: start + .milliseconds(100))
        coordinator.serverExited(reason: "server process exited with status 7", at: start + .milliseconds(150))
        #expect(registration.calls == [.setActive(true), .setActive(false)])
        coordinator.record(.healthy, at: start + .milliseconds(200))
        coordinator.record(.healthy, at: start + .milliseconds(300))
        #expect(registration.calls == [.setActive(true), .setActive(false)], "no re-registration after the server exited")
    }

    @Test func finishStopsReactingToChecks() {
        let (coordinator, registration) = make(rise: 1)
        coordinator.finish()
        coordinator.record(.healthy, at: start)
        #expect(registration.calls.isEmpty)
    }

    @Test func drainTogglesTheRecord() {
        let (coordinator, registration) = make()
        #expect(coordinator.toggleDraining())
        var draining = record
        draining.draining = true
        #expect(registration.calls == [.update(draining)])
        #expect(coordinator.currentRecord == draining)
        #expect(!coordinator.toggleDraining())
        #expect(registration.calls == [.update(draining), .update(record)])
    }
}
