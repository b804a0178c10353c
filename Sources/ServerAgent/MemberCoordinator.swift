import Logging
import MusterBase
import Registry

/// The one owner of the member's state: health status (through the rise/fall machine), draining,
/// and whether the supervised server has exited. Every decision to register, deregister or rewrite
/// the record is made here and logged with its reason.
public final class MemberCoordinator: Sendable {
    public typealias Machine = RiseFallStateMachine<ContinuousClock.Instant>

    private struct State {
        var machine: Machine
        var record: MemberRecord
        /// Set when the agent is leaving (child exited or shutdown): nothing may register again.
        var finished = false
    }

    private let state: Locked<State>
    private let registration: any RegistrationControl
    private let logger: Logger

    public init(
        record: MemberRecord,
        rise: Int,
        fall: Int,
        registration: any RegistrationControl,
        logger: Logger,
        start: ContinuousClock.Instant = .now
    ) {
        self.state = Locked(State(machine: Machine(rise: rise, fall: fall, start: start), record: record))
        self.registration = registration
        self.logger = logger
    }

    /// Current health status (`up` means registered, or being registered).
    public var status: Machine.Status { state.withLock { $0.machine.status } }

    /// The record as currently published.
    public var currentRecord: MemberRecord { state.withLock { $0.record } }

    /// Feeds one check result.
    public func record(_ outcome: CheckOutcome, at now: ContinuousClock.Instant) {
        let (decision, streak): ((Machine.Transition, MemberRecord)?, Int) = state.withLock { state in
            guard !state.finished else { return (nil, 0) }
            let transition = state.machine.record(outcome, at: now)
            return (transition.map { ($0, state.record) }, state.machine.consecutiveFailed)
        }
        if case .unhealthy(let reason) = outcome, decision == nil {
            // The first failure of a streak at info (a server that never comes up is visible without
            // debug logs); the rest at debug, so a long outage does not flood the log.
            logger.log(
                level: streak == 1 ? .info : .debug,
                "health check failed",
                metadata: [LogKey.checkReason: "\(reason)", LogKey.checkConsecutiveFailures: "\(streak)"])
        }
        guard let (transition, record) = decision else { return }
        var leaving: String?
        if case .unhealthy(let why) = outcome { leaving = "health: \(why)" }
        apply(transition, record: record, leaving: leaving)
    }

    /// The supervised server exited: deregister now, without waiting for failed checks, and never
    /// register again.
    public func serverExited(reason: String, at now: ContinuousClock.Instant) {
        let transition = state.withLock { state -> Machine.Transition? in
            state.finished = true
            return state.machine.forceDown(reason: reason, at: now)
        }
        // "server process exited with status 3" -> leaving "child exited with status 3".
        let leaving = reason.hasPrefix("server process ") ? "child " + reason.dropFirst("server process ".count) : "child exited: \(reason)"
        if let transition {
            apply(transition, record: currentRecord, leaving: leaving)
        } else {
            logger.notice("server exited while not registered", metadata: [LogKey.reason: "\(reason)"])
            registration.setActive(false, leaving: leaving)
        }
    }

    /// The agent is shutting down: stop reacting to checks. The registration deletes the node itself.
    public func finish() {
        let first = state.withLock { state -> Bool in
            defer { state.finished = true }
            return !state.finished
        }
        if first { logger.notice("shutting down: health checks stopped, deleting the node before exit") }
    }

    /// Flips `draining` in the record and rewrites it; balancers stop sending new connections to a
    /// draining member while its established ones continue.
    @discardableResult
    public func toggleDraining() -> Bool {
        let record = state.withLock { state -> MemberRecord in
            state.record.draining.toggle()
            return state.record
        }
        logger.notice(
            record.draining ? "draining: balancers will send no new connections" : "draining ended: accepting new connections",
            metadata: [LogKey.memberID: "\(record.id)", LogKey.memberDraining: "\(record.draining)"]
        )
        registration.update(record)
        return record.draining
    }

    private func apply(_ transition: Machine.Transition, record: MemberRecord, leaving: String? = nil) {
        let metadata: Logger.Metadata = [
            LogKey.memberID: "\(record.id)",
            LogKey.healthFrom: "\(transition.from.rawValue)",
            LogKey.healthTo: "\(transition.to.rawValue)",
            LogKey.healthReason: "\(transition.reason)",
            LogKey.healthPreviousLasted: "\(DurationSyntax.format(transition.previousStatusLasted))",
        ]
        switch transition.to {
        case .up:
            logger.notice("server healthy: registering", metadata: metadata)
            registration.setActive(true)
        case .down:
            logger.warning("server unhealthy: deregistering", metadata: metadata)
            registration.setActive(false, leaving: leaving ?? "health: \(transition.reason)")
        }
    }
}
