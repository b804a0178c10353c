import Foundation
import MusterBase
import Registry

/// The pure state of one upstream group: members, nginx balancing state, passive health and
/// counters. No locking and no I/O; `MemberPool` wraps it in a mutex and supplies the clock.
/// Picks go to the configured `BalancingAlgorithm`; registry snapshots, storms and the admin
/// status are extensions in `PoolState+Membership`, `+Storms` and `+Status`. Its fields are
/// internal for those files; only the pool uses this type.
struct PoolState: Sendable {
    var configuration: UpstreamConfiguration
    var members: [PoolMember] = []
    var indexByID: [MemberID: Int] = [:]

    // Derived from `members`, rebuilt on every structural or weight change, never per pick.
    var single = false
    /// The configured method with its own derived state (ring, weight ranges).
    var algorithm: any BalancingAlgorithm
    var generator: SplitMix64

    // Storm handling (panic threshold, flap damping, slow start).
    var damper: FlapDamper
    /// The earliest time a suspect times out, a hold-down or a slow start ends: the one comparison
    /// a pick pays for all of them.
    var nextDeadline: Duration?
    /// The first snapshot is the balancer's start, not members joining: no slow start for it.
    var sawSnapshot = false
    /// Lost members are being kept as suspects.
    var panicking = false
    var panicEntries = 0
    /// Members lost without panic within the last session timeout, kept so a storm that arrives as
    /// several snapshots (sessions expiring one by one, a `deleteall` child by child) is judged
    /// against the whole group: if the threshold is crossed they come back as suspects.
    var recentlyLost: [(member: PoolMember, lostAt: Duration)] = []

    init(configuration: UpstreamConfiguration, seed: UInt64) {
        self.configuration = configuration
        self.generator = SplitMix64(seed: seed)
        self.algorithm = configuration.method.algorithm
        self.damper = FlapDamper(settings: Self.source(of: configuration).flapDamping)
        for (server, id) in zip(configuration.servers, MemberID.staticServers(configuration.servers)) {
            members.append(Self.member(for: server, id: id))
        }
        rebuild()
    }

    private static func member(for server: StaticServer, id: MemberID) -> PoolMember {
        var member = PoolMember(
            id: id, host: server.host, port: server.port,
            source: .static, weight: max(1, server.weight), maxFails: server.maxFails, failTimeout: server.failTimeout,
            maxConns: server.maxConns, backup: server.backup, down: server.down
        )
        member.peer.slowStart = server.slowStart
        return member
    }

    /// Without a zookeeper directive (a caller feeding members by hand) the defaults apply.
    static func source(of configuration: UpstreamConfiguration) -> ZooKeeperSource {
        configuration.zookeeper ?? ZooKeeperSource(connectString: "", path: "")
    }

    /// The registry feed's state (stale, first snapshot, error), kept with the members it describes.
    var membership = MembershipState()

    /// Panic state and counters for the admin endpoint and metrics.
    var storm: StormStatus {
        StormStatus(panicking: panicking, panicEntries: panicEntries, ejections: damper.ejections)
    }

    // MARK: picking

    /// Chooses a member and reserves a connection slot on it (nginx counts `conns` at get-peer time).
    mutating func pick(clientAddress: String?, excluding: Set<MemberID>, now: Duration) -> Int? {
        if let nextDeadline, now >= nextDeadline {
            housekeep(now: now)
        }
        var context = PickContext(now: now, excluding: excluding, single: single)
        var chosen = choose(clientAddress: clientAddress, context: context)
        if chosen == nil, members.contains(where: { $0.peer.damped }) {
            // Damping alone never empties a group: with nothing else left, damped members serve.
            context.useDamped = true
            chosen = choose(clientAddress: clientAddress, context: context)
        }
        guard let chosen else { return nil }
        members[chosen].peer.health.picked(at: now)
        members[chosen].peer.active += 1
        members[chosen].total += 1
        return chosen
    }

    private mutating func choose(clientAddress: String?, context: PickContext) -> Int? {
        algorithm.pick(&members, clientAddress: clientAddress, context: context, random: &generator)
    }

    func member(at index: Int) -> PoolMember { members[index] }

    // MARK: outcomes

    /// Returns true when this success brought the member back from unavailable: the caller then
    /// reports `recovered` with the time (kept off the common path, which needs no clock).
    mutating func connectSucceeded(_ id: MemberID) -> Bool {
        guard let index = indexByID[id] else { return false }
        let health = members[index].peer.health
        let wasOut = health.maxFails > 0 && health.fails >= health.maxFails
        members[index].peer.health.succeeded()
        return wasOut && members[index].peer.health.fails == 0
    }

    /// The member is back from unavailable (passive health): slow start, and a change for damping.
    mutating func recovered(_ id: MemberID, now: Duration) {
        guard let index = indexByID[id] else { return }
        beginSlowStart(index, now: now)
        noteChange(index, now: now)
    }

    /// Returns true when this failure took the member out of service (for logging).
    @discardableResult
    mutating func connectFailed(_ id: MemberID, reason: String, now: Duration, wallClock: Date) -> Bool {
        guard let index = indexByID[id] else { return false }
        members[index].failures += 1
        members[index].lastFailure = wallClock.timeIntervalSince1970
        members[index].lastFailureReason = reason
        if members[index].peer.suspect {
            // Passive health decides about a suspect: one failed connect proves it dead.
            members[index].suspectSince = nil
            members[index].peer.presence = .removed
            noteChange(index, now: now)
            release(index)
            rebuild()
            return true
        }
        var tripped = false
        // nginx does no failure accounting for a lone peer: there is nothing else to send clients to.
        if !single {
            tripped = members[index].peer.health.failed(at: now)
            members[index].peer.lowerEffectiveWeight()
            if tripped { noteChange(index, now: now) }
        }
        release(index)
        return tripped
    }

    mutating func connectionClosed(_ id: MemberID) {
        guard let index = indexByID[id] else { return }
        release(index)
    }

    private mutating func release(_ index: Int) {
        if members[index].peer.active > 0 {
            members[index].peer.active -= 1
        }
        if members[index].peer.removed, members[index].peer.active == 0 {
            members.remove(at: index)
            rebuild()
        }
    }

    // MARK: reload

    /// Applies a reloaded configuration: members that stay keep their counters, health and
    /// balancing state; members that go drain.
    mutating func reconfigure(_ newConfiguration: UpstreamConfiguration) {
        var old: [MemberID: PoolMember] = [:]
        for member in members {
            old[member.id] = member
        }
        var next: [PoolMember] = []
        var kept: Set<MemberID> = []
        for (server, id) in zip(newConfiguration.servers, MemberID.staticServers(newConfiguration.servers)) {
            var fresh = Self.member(for: server, id: id)
            guard kept.insert(fresh.id).inserted else { continue }
            if var existing = old[fresh.id] {
                existing.peer.setWeight(fresh.peer.weight)
                existing.peer.health.maxFails = fresh.peer.health.maxFails
                existing.peer.health.failTimeout = fresh.peer.health.failTimeout
                existing.peer.maxConns = fresh.peer.maxConns
                existing.peer.backup = fresh.peer.backup
                existing.peer.down = fresh.peer.down
                existing.peer.slowStart = fresh.peer.slowStart
                existing.peer.presence = .present
                fresh = existing
            }
            next.append(fresh)
        }
        for var member in members where !kept.contains(member.id) {
            switch member.source {
            case .static:
                member.peer.presence = .removed
            case .zookeeper:
                if let source = newConfiguration.zookeeper {
                    member.peer.health.maxFails = source.maxFails
                    member.peer.health.failTimeout = source.failTimeout
                    member.peer.slowStart = source.slowStart
                } else {
                    member.peer.presence = .removed
                }
            }
            if member.peer.removed, member.peer.active == 0 { continue }
            next.append(member)
        }
        configuration = newConfiguration
        algorithm = newConfiguration.method.algorithm
        damper.settings = Self.source(of: newConfiguration).flapDamping
        members = next
        rebuild()
    }

    // MARK: derived state

    mutating func rebuild() {
        indexByID.removeAll(keepingCapacity: true)
        for index in members.indices {
            indexByID[members[index].id] = index
        }
        var primaries = 0
        var backups = 0
        for member in members where member.peer.listed {
            if member.peer.backup { backups += 1 } else { primaries += 1 }
        }
        single = primaries == 1 && backups == 0
        algorithm.rebuild(members)
    }
}
