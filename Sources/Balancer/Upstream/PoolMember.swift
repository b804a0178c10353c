import MusterBase

/// One member of an upstream group: who it is, its balancing state and its counters.
struct PoolMember: Sendable {
    /// Where it comes from; the raw value is what the admin endpoint shows.
    enum Source: String, Sendable {
        case `static`, zookeeper
    }

    let id: MemberID
    var host: String
    var port: Int
    /// `host:port`, also the string consistent hashing places on the ring (nginx's `server` name).
    var address: String
    let source: Source
    var peer: PeerState

    var total = 0
    var failures = 0
    /// Wall-clock seconds since 1970 (a `Double`, not `Date`, to keep the layout fixed and simple).
    var lastFailure: Double?
    var lastFailureReason: String?
    /// The record's `leaving` reason, while it carries one.
    var leavingReason: String?
    /// When the member became a suspect (its registration was lost under the panic threshold).
    var suspectSince: Duration?

    init(id: MemberID, host: String, port: Int, source: Source, weight: Int, maxFails: Int, failTimeout: Duration, maxConns: Int = 0, backup: Bool = false, down: Bool = false) {
        self.id = id
        self.host = host
        self.port = port
        self.address = Endpoint(host: host, port: port).description
        self.source = source
        self.peer = PeerState(weight: weight, maxFails: maxFails, failTimeout: failTimeout, maxConns: maxConns, backup: backup, down: down)
    }
}
