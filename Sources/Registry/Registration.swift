import Logging
import MusterBase
import ServiceLifecycle

/// Keeps one EPHEMERAL node `<path>/<record.id>` alive, with the member record as its data, for as
/// long as it runs and is active.
///
/// It is a reconciler: whenever something may have changed (session state, a watch on its own
/// node, ``setActive(_:)`` or ``update(_:)``), it compares the node in ZooKeeper with what it
/// wants and fixes the difference. So it re-creates its node after a session expiry, after someone
/// deleted it, and after a ZooKeeper restart, with no special cases. After a fast restart it may
/// find a node of the same name held by an earlier session: if that node's record names the same
/// address, it is deleted and re-created at once (no wait for the old session to time out);
/// otherwise it is another member's and is left alone (logged as a conflict, retried).
///
/// On cancellation or graceful shutdown, ``run()`` deletes the node before it returns.
///
/// Leaving on purpose (``setActive(_:leaving:)``, shutdown) first rewrites the record with a
/// `leaving` reason and waits `leaveGrace` before the delete, so balancers stop sending new
/// connections at once and know the member left rather than was lost.
public final class Registration: Service, Sendable {
    private struct Desired: Sendable, Equatable {
        var active: Bool
        var record: MemberRecord
        /// Why the member goes, while inactive: written into the record before the delete.
        var leaving: String?
    }

    private struct State: Sendable {
        var desired: Desired
        /// The desired state the last successful reconcile achieved.
        var achieved: Desired?
        var invalidRecordLogged = false
        /// Tasks in ``waitUntilSettled(timeout:)``, resumed when ZooKeeper matches `desired`.
        var settledWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var cancelledWaiters: Set<Int> = []
        var nextWaiter = 0

        var isSettled: Bool { achieved == desired }

        /// Resumes the waiters once settled; every change of `desired` or `achieved` ends here.
        mutating func resumeWaitersIfSettled() {
            guard isSettled else { return }
            for waiter in settledWaiters.values { waiter.resume() }
            settledWaiters = [:]
        }
    }

    public let client: ZooKeeperClient
    /// The members path, e.g. `/muster/services/chat/members`.
    public let path: String
    private let acl: NodeACL
    private let parentACL: NodeACL
    private let logger: Logger
    private let leaveGrace: Duration
    private let state: Locked<State>
    private let wake = WakeSignal()

    /// - Parameters:
    ///   - path: the members path; the node is `<path>/<record.id>`.
    ///   - active: whether to register at once (`setActive` changes it later).
    ///   - acl: the node's ACL; with digest credentials use `.creatorAllWorldRead`.
    ///   - leaveGrace: how long a `leaving` record stays before its node is deleted; zero deletes at
    ///     once without the mark.
    public init(client: ZooKeeperClient, path: String, record: MemberRecord, active: Bool = true,
                acl: NodeACL = .open, parentACL: NodeACL = .open, leaveGrace: Duration = .zero, logger: Logger) {
        self.leaveGrace = leaveGrace
        self.client = client
        self.path = path
        self.acl = acl
        self.parentACL = parentACL
        var logger = logger
        logger[metadataKey: "zk.path"] = "\(path)"
        logger[metadataKey: "member.id"] = "\(record.id)"
        self.logger = logger
        self.state = Locked(State(desired: Desired(active: active, record: record)))
    }

    /// The znode this registration owns.
    public var nodePath: String {
        let id = state.withLock { $0.desired.record.id }
        return ServicePath.child(id, of: path)
    }

    /// The record as last set.
    public var record: MemberRecord { state.withLock { $0.desired.record } }

    /// `true` keeps the node; `false` deletes it (deregisters) while the registration keeps running.
    public func setActive(_ active: Bool) {
        setActive(active, leaving: nil)
    }

    /// Like ``setActive(_:)``; going inactive with a `leaving` reason marks the record first.
    public func setActive(_ active: Bool, leaving: String?) {
        state.withLock {
            let before = $0.desired
            $0.desired.active = active
            $0.desired.leaving = active ? nil : leaving
            // A pass in flight may still hold what it achieved before: not settled until the next.
            if $0.desired != before { $0.achieved = nil }
            $0.resumeWaitersIfSettled()
        }
        wake.signal()
    }

    /// Rewrites the node's data in place (weight, draining, metadata). The id cannot change: a new
    /// id is a new member and needs its own registration; such an update is refused and logged.
    public func update(_ record: MemberRecord) {
        let accepted = state.withLock { state -> Bool in
            guard record.id == state.desired.record.id else { return false }
            state.desired.record = record
            state.invalidRecordLogged = false
            state.resumeWaitersIfSettled()
            return true
        }
        if accepted {
            wake.signal()
        } else {
            logger.error("refusing a record update that changes the member id", metadata: ["member.newID": "\(record.id)"])
        }
    }

    /// Whether ZooKeeper matches the desired state (registered with the current record, or absent).
    public var isSettled: Bool {
        state.withLock { $0.isSettled }
    }

    /// Waits (bounded) until ZooKeeper matches the desired state. Returns false on timeout.
    public func waitUntilSettled(timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.settled(); return true }
            group.addTask { try? await Task.sleep(for: timeout); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first || isSettled
        }
    }

    /// Returns when settled (at once if it is), or when the waiting task is cancelled.
    private func settled() async {
        let key = state.withLock { state -> Int in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.isSettled || state.cancelledWaiters.remove(key) != nil { return true }
                    state.settledWaiters[key] = waiter
                    return false
                }
                if now { waiter.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let waiter = state.settledWaiters.removeValue(forKey: key) { return waiter }
                state.cancelledWaiters.insert(key)
                return nil
            }
            waiter?.resume()
        }
    }

    /// Runs until cancelled or graceful shutdown. Throws ``ZooKeeperAuthorizationError`` when
    /// ZooKeeper refuses a write (NOAUTH): this identity cannot register, and retrying with the
    /// same credentials cannot help (a wrong password is another identity, not a failed login).
    public func run() async throws {
        let (denied, session) = await cancelWhenGracefulShutdown {
            var passes = Passes(registration: self)
            await ReconcileLoop(client: self.client, wake: self.wake, audit: nil).run(&passes)
            return (passes.denied, passes.session)
        }
        // Deregister on the way out, in a fresh task: this one is cancelled, but the delete must run.
        await Task {
            await self.removeOwnNode(
                reason: denied == nil ? "registration stopped" : "not authorized", leaving: denied == nil ? "shutdown" : nil,
                session: session)
        }.value
        if let denied { throw denied }
    }

    /// What the shared loop runs: one pass makes ZooKeeper match the desired state; a NOAUTH stops.
    private struct Passes: Reconciler {
        let registration: Registration
        /// Set when ZooKeeper refused this identity.
        var denied: ZooKeeperAuthorizationError?
        /// The connected session of the last pass, nil while disconnected (for the delete on the way out).
        var session: Int64?

        // Nothing else to forget: each pass looks at the node afresh, and its owner is compared
        // with the session of the moment.
        mutating func disconnected() { session = nil }
        func sessionChanged() {}

        mutating func pass(audit: Bool, session: Int64) async throws {
            self.session = session
            let desired = registration.state.withLock { $0.desired }
            if let watch = try await registration.reconcile(desired, session: session) {
                registration.wake.signal(when: watch)
            }
        }

        mutating func failed(_ error: any Error, retryAfter: Duration) -> ReconcileLoop.Verdict {
            let logger = registration.logger
            registration.state.withLock { $0.achieved = nil }
            if let denied = ZooKeeperAuthorizationError(error, credentials: registration.client.configuration.credentials) {
                logger.error("not authorized to register; stopping", metadata: ["error": "\(denied)"])
                self.denied = denied
                return .stop
            }
            if let zkError = error as? ZooKeeperError, zkError.code.isTransient {
                logger.debug("registration interrupted; will retry", metadata: ["error": "\(zkError)"])
            } else {
                logger.warning("registration failed; will retry", metadata: ["error": "\(error)", "retry.after": "\(retryAfter)"])
            }
            return .retry
        }
    }

    /// One pass in session `session`: make ZooKeeper match `desired`. Returns a watch on the node
    /// when registered.
    private func reconcile(_ desired: Desired, session: Int64) async throws -> NodeWatch? {
        let nodePath = self.nodePath
        guard desired.active else {
            try await removeStaleOrOwnNode(nodePath: nodePath, record: desired.record, leaving: desired.leaving, session: session)
            markAchieved(desired)
            return nil
        }
        let data: [UInt8]
        do {
            data = try desired.record.encoded()
        } catch {
            let first = state.withLock { state -> Bool in
                defer { state.invalidRecordLogged = true }
                return !state.invalidRecordLogged
            }
            if first { logger.error("not registering an invalid member record", metadata: ["error": "\(error)"]) }
            return nil
        }
        let (stat, watch) = try await client.existsWatching(nodePath)
        guard let stat else {
            do {
                try await client.create(nodePath, data: data, mode: .ephemeral, acl: acl, makeParents: true, parentACL: parentACL)
                logger.info("registered", metadata: ["zk.node": "\(nodePath)", "member.address": "\(desired.record.address)",
                                                     "member.weight": "\(desired.record.weight)",
                                                     "member.draining": "\(desired.record.draining)"])
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                // Someone (perhaps our previous session) created it meanwhile: look again.
            }
            wake.signal()
            return watch
        }
        if stat.ephemeralOwner == session {
            let (current, currentStat) = try await client.getData(nodePath)
            if current != data {
                try await client.setData(nodePath, data: data, version: currentStat.version)
                logger.info("member record updated", metadata: ["member.weight": "\(desired.record.weight)",
                                                                "member.draining": "\(desired.record.draining)"])
            }
            markAchieved(desired)
            return watch
        }
        try await replaceForeignNode(nodePath: nodePath, record: desired.record, owner: stat.ephemeralOwner)
        wake.signal()
        return watch
    }

    /// A node of our name held by another session: ours from before a restart if its record names
    /// the same address, then delete it now rather than wait for that session to time out.
    private func replaceForeignNode(nodePath: String, record: MemberRecord, owner: Int64) async throws {
        let (current, currentStat) = try await client.getData(nodePath)
        let existing = try? MemberRecord.decode(current)
        guard let existing, existing.host == record.host, existing.port == record.port else {
            throw RegistrationConflict(nodePath: nodePath, owner: owner, existing: existing?.address)
        }
        do {
            try await client.delete(nodePath, version: currentStat.version)
            logger.notice("replaced the node left by an earlier session", metadata: [
                "zk.node": "\(nodePath)", "zk.staleSession": "0x\(String(UInt64(bitPattern: owner), radix: 16))",
            ])
        } catch let error as ZooKeeperError where error.code == .noNode || error.code == .badVersion {
            // Gone or changed meanwhile; the next pass looks again.
        }
    }

    /// Inactive: delete our node, and a stale node of a previous session that names our address.
    private func removeStaleOrOwnNode(nodePath: String, record: MemberRecord, leaving: String?, session: Int64) async throws {
        guard let stat = try await client.exists(nodePath) else { return }
        if stat.ephemeralOwner == session {
            try await markLeaving(nodePath: nodePath, record: record, reason: leaving)
            // Active again during the grace: keep the node; the next pass rewrites the record.
            guard state.withLock({ !$0.desired.active }) else { return }
            do {
                try await client.delete(nodePath)
                logger.info("deregistered", metadata: ["zk.node": "\(nodePath)"])
            } catch let error as ZooKeeperError where error.code == .noNode {}
        } else {
            do {
                try await replaceForeignNode(nodePath: nodePath, record: record, owner: stat.ephemeralOwner)
            } catch is RegistrationConflict {
                // Another member's node: not ours to delete.
            }
        }
    }

    /// Writes the record with its `leaving` reason, then waits `leaveGrace` (a balancer's watch
    /// fires and it stops new connections before the node goes).
    private func markLeaving(nodePath: String, record: MemberRecord, reason: String?) async throws {
        guard leaveGrace > .zero, let reason else { return }
        var marked = record
        marked.leaving = String(decoding: Array(reason.utf8.prefix(MemberLimits.maximumLeavingLength)), as: UTF8.self)
        guard let data = try? marked.encoded() else { return }
        do {
            try await client.setData(nodePath, data: data)
            logger.info("leaving: record marked, node deleted after the grace",
                        metadata: ["zk.node": "\(nodePath)", "member.leaving": "\(marked.leaving ?? "")", "leave.grace": "\(leaveGrace)"])
        } catch let error as ZooKeeperError where error.code == .noNode {
            return
        }
        try? await Task.sleep(for: leaveGrace)
    }

    /// Deletes the node on the way out, in the session the loop last saw connected (nil: it was
    /// disconnected).
    private func removeOwnNode(reason: String, leaving: String?, session: Int64?) async {
        guard let session else {
            logger.warning("cannot delete the node while disconnected; it goes when the session ends", metadata: ["reason": "\(reason)"])
            return
        }
        let nodePath = self.nodePath
        do {
            if let stat = try await client.exists(nodePath), stat.ephemeralOwner == session {
                try await markLeaving(nodePath: nodePath, record: record, reason: leaving)
                try await client.delete(nodePath)
                logger.info("deregistered", metadata: ["zk.node": "\(nodePath)", "reason": "\(reason)"])
            }
        } catch {
            logger.warning("could not delete the node; it goes when the session ends", metadata: ["error": "\(error)"])
        }
        state.withLock { $0.achieved = nil }
    }

    private func markAchieved(_ desired: Desired) {
        state.withLock {
            $0.achieved = desired
            $0.resumeWaitersIfSettled()
        }
    }
}

/// The node of this member's name belongs to another session and names another address.
public struct RegistrationConflict: Error, Sendable, CustomStringConvertible {
    public var nodePath: String
    public var owner: Int64
    public var existing: String?

    public var description: String {
        "\(nodePath) is held by session 0x\(String(UInt64(bitPattern: owner), radix: 16)) for \(existing ?? "an unreadable record"); "
            + "another member uses this id: give each member a unique --id"
    }
}
