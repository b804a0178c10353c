import Foundation
import Registry

/// The live member set of one upstream group and its balancing state, shared by every listener
/// and event loop that proxies to the group. Thread-safe: one mutex around `PoolState`, held
/// only for the few hundred nanoseconds of a pick or report.
public final class MemberPool: Sendable {
    private let state: Locked<PoolState>
    private let clock: @Sendable () -> ContinuousClock.Instant
    /// Origin of the monotonic offsets the pure state works with.
    private let origin: ContinuousClock.Instant
    private let wallClock: @Sendable () -> Date

    /// - Parameters:
    ///   - now: the monotonic clock passive health runs on; inject one to test timeouts exactly.
    ///   - wallClock: stamps `lastFailure` for the admin endpoint.
    ///   - seed: seeds `random` balancing (fixed in tests); random by default.
    public init(
        configuration: UpstreamConfiguration,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        wallClock: @escaping @Sendable () -> Date = { Date() },
        seed: UInt64? = nil
    ) {
        var system = SystemRandomNumberGenerator()
        self.state = Locked(PoolState(configuration: configuration, seed: seed ?? system.next()))
        self.clock = now
        self.origin = now()
        self.wallClock = wallClock
    }

    /// Runs `body` on the pure state under the lock, with the monotonic offset now: for this
    /// type's extensions in other files (the registry's entry is in PoolState+Membership.swift),
    /// which see neither the lock nor the clock.
    func withState<R>(_ body: (inout PoolState, Duration) -> R) -> R {
        let now = clock() - origin
        return state.withLock { body(&$0, now) }
    }

    /// The configuration currently applied.
    public var configuration: UpstreamConfiguration {
        state.withLock { $0.configuration }
    }

    /// Picks a member for a new connection, skipping `excluding` (already tried for this client).
    /// Reserves a connection slot (active += 1, as nginx does at get-peer time): report the outcome
    /// with `connectFailed` or, once connected, `connectionClosed`. nil = no live upstreams.
    public func pick(clientAddress: String?, excluding: Set<MemberID> = []) -> Pick? {
        let now = clock() - origin
        return state.withLock { state in
            guard let index = state.pick(clientAddress: clientAddress, excluding: excluding, now: now) else {
                return nil
            }
            let member = state.member(at: index)
            return Pick(id: member.id, host: member.host, port: member.port)
        }
    }

    /// The connection to `id` is established: a trial connection after `fail_timeout` brings it back.
    public func connectSucceeded(_ id: MemberID) {
        if state.withLock({ $0.connectSucceeded(id) }) {
            let now = clock() - origin
            state.withLock { $0.recovered(id, now: now) }
        }
    }

    /// Connecting to `id` failed or timed out: counts for passive health and releases the slot.
    /// Returns true when this failure made the member unavailable for `fail_timeout`.
    @discardableResult
    public func connectFailed(_ id: MemberID, reason: String) -> Bool {
        let now = clock() - origin
        let wall = wallClock()
        return state.withLock { $0.connectFailed(id, reason: reason, now: now, wallClock: wall) }
    }

    /// A connection to `id` (after `connectSucceeded`) has closed: releases the slot.
    public func connectionClosed(_ id: MemberID) {
        state.withLock { $0.connectionClosed(id) }
    }

    /// SIGHUP: applies a new configuration, keeping the counters of members that stay.
    public func reconfigure(_ configuration: UpstreamConfiguration) {
        state.withLock { $0.reconfigure(configuration) }
    }

    /// Every member, including removed ones still draining their connections.
    public func status() -> [MemberStatus] {
        let now = clock() - origin
        let wall = wallClock()
        return state.withLock { $0.status(now: now, wallClock: wall) }
    }

    /// Whether the group is in panic (lost members kept as suspects), and the storm counters.
    public func storm() -> StormStatus {
        state.withLock { $0.storm }
    }
}
