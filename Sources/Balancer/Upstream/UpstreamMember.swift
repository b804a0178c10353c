import Foundation

/// One member of an upstream group with nginx's per-peer balancing state and our counters.
struct UpstreamMember: Sendable {
    enum Source: String, Sendable {
        case `static` = "static"
        case zookeeper = "zookeeper"
    }

    let id: MemberID
    var host: String
    var port: Int
    /// `host:port`, also the string consistent hashing places on the ring (nginx's `server` name).
    var address: String
    let source: Source
    var weight: Int
    var maxConns: Int
    var backup: Bool
    var down: Bool
    /// The member's own record asks for no new connections.
    var draining = false
    /// Gone from the configuration or membership; kept only until its last connection closes.
    var removed = false
    var health: PassiveHealth

    // nginx smooth weighted round robin state.
    var currentWeight = 0
    var effectiveWeight: Int

    var active = 0
    var total = 0
    var failures = 0
    var lastFailure: Date?
    var lastFailureReason: String?

    init(id: MemberID, host: String, port: Int, source: Source, weight: Int, maxFails: Int, failTimeout: Duration, maxConns: Int = 0, backup: Bool = false, down: Bool = false) {
        self.id = id
        self.host = host
        self.port = port
        self.address = MemberID.address(host: host, port: port)
        self.source = source
        self.weight = weight
        self.maxConns = maxConns
        self.backup = backup
        self.down = down
        self.health = PassiveHealth(maxFails: maxFails, failTimeout: failTimeout)
        self.effectiveWeight = weight
    }

    /// Takes no new connections, whatever its health: `down`, draining or removed.
    @inline(__always)
    var inService: Bool { !down && !draining && !removed }

    /// Part of nginx's peer list: everything except members removed and waiting to drain.
    @inline(__always)
    var listed: Bool { !removed }

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
