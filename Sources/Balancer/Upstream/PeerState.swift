/// The per-member balancing state every pick reads: nginx's peer fields, plain values only.
///
/// Kept free of reference-counted fields on purpose: pickers read it for every member on every
/// pick, and Swift may copy an array element to call a method on it; copying this is a plain memcpy,
/// while copying the whole `PoolMember` (ids, host strings) meant retains and releases.
struct PeerState: Sendable {
    var weight: Int
    var maxConns: Int
    var backup: Bool
    var down: Bool
    /// The member's own record asks for no new connections.
    var draining = false
    /// The record carries a `leaving` mark: no new connections, removed when its node goes.
    var leaving = false
    /// Where the member stands in its group's set.
    var presence = Presence.present
    /// Held out by flap damping; still used when nothing else is left (see `PickContext`).
    var damped = false
    var health: PassiveHealth

    /// `slow_start=T`; zero = off.
    var slowStart: Duration = .zero
    /// When the current slow start began; nil outside one.
    var slowStartBegan: Duration?

    // nginx smooth weighted round robin state.
    var currentWeight = 0
    var effectiveWeight: Int

    /// Open (or opening) connections, nginx's `conns`.
    var active = 0

    /// Where a member stands in its group's set: one of these at a time.
    enum Presence: Sendable, Equatable {
        /// In the configuration or the registry's set.
        case present
        /// Lost from the registry but kept in service under the panic threshold.
        case suspect
        /// Gone from the configuration or membership; kept only until its last connection closes.
        case removed
    }

    @inline(__always)
    var removed: Bool { presence == .removed }

    @inline(__always)
    var suspect: Bool { presence == .suspect }

    init(weight: Int, maxFails: Int, failTimeout: Duration, maxConns: Int, backup: Bool, down: Bool) {
        self.weight = weight
        self.maxConns = maxConns
        self.backup = backup
        self.down = down
        self.health = PassiveHealth(maxFails: maxFails, failTimeout: failTimeout)
        self.effectiveWeight = weight
    }

    /// Takes no new connections, whatever its health: `down`, draining or removed.
    @inline(__always)
    var inService: Bool { !down && !draining && !removed && !leaving }

    /// Part of nginx's peer list: everything except members removed and waiting to drain.
    @inline(__always)
    var listed: Bool { !removed }

    /// nginx's skip order after `tried`: down, failed (`max_fails`), full (`max_conns`).
    @inline(__always)
    func isUsable(now: Duration, single: Bool, useDamped: Bool = false) -> Bool {
        guard inService else { return false }
        if damped, !useDamped { return false }
        if !single, !health.isAvailable(at: now) { return false }
        if maxConns > 0, active >= maxConns { return false }
        return true
    }

    /// The weight factor in per-mille (1000 outside slow start); see `SlowStart`.
    @inline(__always)
    func rampPermille(now: Duration) -> Int {
        guard let began = slowStartBegan else { return SlowStart.full }
        return SlowStart.permille(elapsed: now - began, over: slowStart)
    }

    /// Changes the weight live; the smooth round robin restarts this member from full weight.
    mutating func setWeight(_ newWeight: Int) {
        guard newWeight != weight else { return }
        weight = newWeight
        effectiveWeight = newWeight
    }

    /// nginx lowers `effective_weight` on each failure so a flaky member gets fewer picks while it
    /// recovers; each later round robin pass gives one unit back.
    mutating func lowerEffectiveWeight() {
        if health.maxFails > 0 {
            effectiveWeight -= weight / health.maxFails
        }
        if effectiveWeight < 0 {
            effectiveWeight = 0
        }
    }
}
