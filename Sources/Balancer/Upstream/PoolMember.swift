import MusterBase
import Registry

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

extension PoolMember {
    /// A member discovered in the registry, with the `zookeeper` directive's passive health and
    /// slow start: the one conversion from a record, which production and tests both go through.
    init(record: MemberRecord, source: ZooKeeperSource) {
        self.init(
            id: .discovered(record.id), host: record.host, port: record.port, source: .zookeeper, weight: record.weight,
            maxFails: source.maxFails, failTimeout: source.failTimeout)
        peer.slowStart = source.slowStart
        take(record)
    }

    /// What taking a record's fields changed.
    struct RecordChange {
        /// Any field changed (the member is reported as updated).
        var changed = false
        /// The address or the weight changed: the algorithm's derived state must be rebuilt.
        var structural = false
    }

    /// Takes the fields of a record (already read by `MemberRecord.read()`) that balancing uses:
    /// the address, the weight, `draining` and `leaving`. A new record field a balancer acts on is
    /// read here and nowhere else.
    @discardableResult
    mutating func take(_ record: MemberRecord) -> RecordChange {
        var change = RecordChange()
        if host != record.host || port != record.port {
            host = record.host
            port = record.port
            address = record.address
            change.changed = true
            change.structural = true
        }
        if peer.weight != record.weight {
            peer.setWeight(record.weight)
            change.changed = true
            change.structural = true
        }
        if peer.draining != record.draining {
            peer.draining = record.draining
            change.changed = true
        }
        if leavingReason != record.leaving {
            peer.leaving = record.leaving != nil
            leavingReason = record.leaving
            change.changed = true
        }
        return change
    }
}
