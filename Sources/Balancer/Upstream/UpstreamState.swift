import Foundation
import MusterBase
import Registry

/// The pure state of one upstream group: members, nginx balancing state, passive health and
/// counters. No locking and no I/O; `UpstreamPool` wraps it in a mutex and supplies the clock.
struct UpstreamState: Sendable {
    private(set) var configuration: UpstreamConfiguration
    private(set) var members: [UpstreamMember] = []
    private var indexByID: [MemberID: Int] = [:]

    // Derived from `members`, rebuilt on every structural or weight change, never per pick.
    private var single = false
    /// The configured method with its own derived state (ring, weight ranges).
    private var algorithm: any BalancingAlgorithm
    private var generator: SplitMix64

    // Storm handling (panic threshold, flap damping, slow start).
    private var damper: FlapDamper
    /// The earliest time a suspect times out, a hold-down or a slow start ends: the one comparison
    /// a pick pays for all of them.
    private var nextDeadline: Duration?
    /// The first snapshot is the balancer's start, not members joining: no slow start for it.
    private var sawSnapshot = false
    /// Lost members are being kept as suspects.
    private(set) var panicking = false
    private(set) var panicEntries = 0
    /// Members lost without panic within the last session timeout, kept so a storm that arrives as
    /// several snapshots (sessions expiring one by one, a `deleteall` child by child) is judged
    /// against the whole group: if the threshold is crossed they come back as suspects.
    private var recentlyLost: [(member: UpstreamMember, lostAt: Duration)] = []

    init(configuration: UpstreamConfiguration, seed: UInt64) {
        self.configuration = configuration
        self.generator = SplitMix64(seed: seed)
        self.algorithm = configuration.method.algorithm
        self.damper = FlapDamper(settings: Self.source(of: configuration).flapDamping)
        for server in configuration.servers {
            members.append(Self.member(for: server))
        }
        rebuild()
    }

    private static func member(for server: StaticServer) -> UpstreamMember {
        var member = UpstreamMember(
            id: .staticServer(host: server.host, port: server.port), host: server.host, port: server.port,
            source: .static, weight: max(1, server.weight), maxFails: server.maxFails, failTimeout: server.failTimeout,
            maxConns: server.maxConns, backup: server.backup, down: server.down
        )
        member.peer.slowStart = server.slowStart
        return member
    }

    /// Without a zookeeper directive (a caller feeding members by hand) the defaults apply.
    private static func source(of configuration: UpstreamConfiguration) -> ZooKeeperSource {
        configuration.zookeeper ?? ZooKeeperSource(connectString: "", path: "")
    }

    /// The registry feed's state (stale, first snapshot, error), kept with the members it describes.
    private(set) var membership = MembershipState()

    /// Panic state and counters for the admin endpoint and metrics.
    var storm: UpstreamStorm {
        UpstreamStorm(panicking: panicking, panicEntries: panicEntries, ejections: damper.ejections)
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

    func member(at index: Int) -> UpstreamMember { members[index] }

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
            members[index].peer.suspect = false
            members[index].suspectSince = nil
            members[index].peer.removed = true
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

    // MARK: membership

    /// Applies one snapshot of the registry: its members, and whether it is stale or the path
    /// cannot be read (the admin endpoint's view of the feed).
    mutating func apply(_ snapshot: MembershipSnapshot, now: Duration) -> MembershipChange {
        var change = applyMembership(snapshot.members, stale: snapshot.stale, now: now)
        change.freshnessChanged = !membership.hasSnapshot || membership.stale != snapshot.stale
        membership.stale = snapshot.stale
        membership.hasSnapshot = true
        // Set while the members path cannot be read (NOAUTH, say): the members shown are then the
        // last ones read, marked stale, and the watch retries with backoff.
        membership.error = snapshot.error.map { "\($0)" }
        return change
    }

    /// The feed could not start (bad auth file, bad connect string), or starts again (nil).
    mutating func membershipFailed(_ error: String?) {
        membership.error = error
    }

    private mutating func applyMembership(_ records: [MemberRecord], stale: Bool, now: Duration) -> MembershipChange {
        var change = MembershipChange()
        let source = Self.source(of: configuration)
        let joining = sawSnapshot
        sawSnapshot = true
        var seen: Set<MemberID> = []
        var structural = false
        for offered in records {
            // The record's own rule decides what a member may be (registry records passed it
            // when they were decoded; records handed in directly meet it here).
            let record: MemberRecord
            do {
                record = try offered.read().record
            } catch {
                change.rejected.append(offered.id.isEmpty ? "\(error)" : "\(offered.id): \(error)")
                continue
            }
            let id = MemberID.discovered(record.id)
            guard seen.insert(id).inserted else {
                change.rejected.append("\(record.id): duplicate id")
                continue
            }
            if let index = indexByID[id] {
                var member = members[index]
                var changed = false
                var returned = false
                if member.peer.removed {
                    member.peer.removed = false
                    changed = true
                    structural = true
                    returned = true
                }
                if member.peer.suspect {
                    // Registered again: a normal member.
                    member.peer.suspect = false
                    member.suspectSince = nil
                    changed = true
                }
                let wasLeaving = member.peer.leaving
                let taken = member.take(record)
                changed = changed || taken.changed
                structural = structural || taken.structural
                member.peer.slowStart = source.slowStart
                members[index] = member
                if changed { change.updated.append(id) }
                if returned, !member.peer.leaving {
                    beginSlowStart(index, now: now)
                    noteChange(index, now: now)
                } else if member.peer.leaving != wasLeaving, !returned {
                    noteChange(index, now: now)
                }
                if member.peer.leaving, !wasLeaving { change.leaving.append(id) }
            } else {
                let member = UpstreamMember(record: record, source: source)
                members.append(member)
                let index = members.count - 1
                indexByID[id] = index
                change.added.append(id)
                if record.leaving != nil { change.leaving.append(id) }
                structural = true
                if joining, !member.peer.leaving {
                    beginSlowStart(index, now: now)
                    noteChange(index, now: now)
                }
                if let until = damper.heldUntil(id, at: now) {
                    // Removed while held out and back: the hold-down still runs.
                    members[index].peer.damped = true
                    schedule(until)
                }
            }
        }
        if stale {
            // The registry is unreachable: this is the last known set, not proof that anyone left.
            change.keptBecauseStale = true
        } else {
            // Gone members that were in service and unmarked are lost; leaving and draining ones
            // were out of service already and go as before.
            var lost: [Int] = []
            var gone: [Int] = []
            var registered = 0
            for index in members.indices where members[index].source == .zookeeper && !members[index].peer.removed {
                let peer = members[index].peer
                if seen.contains(members[index].id) {
                    if !peer.leaving, !peer.draining, !peer.suspect { registered += 1 }
                } else if peer.leaving || peer.draining {
                    gone.append(index)
                } else {
                    lost.append(index)
                }
            }
            recentlyLost.removeAll { now - $0.lostAt >= source.sessionTimeout || seen.contains($0.member.id) }
            let lostCount = lost.count + recentlyLost.count
            if PanicThreshold.panics(registered: registered, lost: lostCount, percent: source.panicThreshold) {
                for index in lost where !members[index].peer.suspect {
                    members[index].peer.suspect = true
                    members[index].suspectSince = now
                    change.suspected.append(members[index].id)
                    schedule(now + source.suspectTimeout)
                }
                for (saved, lostAt) in recentlyLost {
                    if let index = indexByID[saved.id] {
                        // Still draining its connections: back in service.
                        members[index].peer.removed = false
                        members[index].peer.suspect = true
                        members[index].suspectSince = lostAt
                    } else {
                        var member = saved
                        member.peer.removed = false
                        member.peer.active = 0
                        member.peer.suspect = true
                        member.suspectSince = lostAt
                        members.append(member)
                        indexByID[member.id] = members.count - 1
                    }
                    change.suspected.append(saved.id)
                    schedule(lostAt + source.suspectTimeout)
                    structural = true
                }
                recentlyLost.removeAll()
                if !panicking {
                    panicking = true
                    panicEntries += 1
                }
            } else {
                // Back above the threshold (or never below it): lost members and any remaining
                // suspects drain like removed members.
                gone += lost
                for index in lost {
                    noteChange(index, now: now)
                    if !members[index].peer.suspect { recentlyLost.append((members[index], now)) }
                }
                panicking = false
            }
            for index in gone.sorted().reversed() {
                change.removed.append(members[index].id)
                retire(index)
                structural = true
            }
        }
        if structural { rebuild() }
        return change
    }

    // MARK: storms

    private mutating func schedule(_ deadline: Duration) {
        nextDeadline = min(nextDeadline ?? deadline, deadline)
    }

    private mutating func beginSlowStart(_ index: Int, now: Duration) {
        guard members[index].peer.slowStart > .zero else { return }
        members[index].peer.slowStartBegan = now
        schedule(now + members[index].peer.slowStart)
    }

    /// One change between in and out of service, for flap damping (discovered members only: a
    /// static list is the operator's, and keeps nginx's semantics).
    private mutating func noteChange(_ index: Int, now: Duration) {
        guard members[index].source == .zookeeper else { return }
        if let until = damper.change(members[index].id, at: now) {
            members[index].peer.damped = true
            schedule(until)
        }
    }

    /// Expires suspects, ends hold-downs and slow starts that are due, and finds the next deadline.
    mutating func housekeep(now: Duration) {
        nextDeadline = nil
        let source = Self.source(of: configuration)
        var structural = false
        for index in members.indices.reversed() {
            if members[index].peer.suspect, let since = members[index].suspectSince {
                if now - since >= source.suspectTimeout {
                    members[index].peer.suspect = false
                    members[index].suspectSince = nil
                    retire(index)
                    structural = true
                    continue
                }
                schedule(since + source.suspectTimeout)
            }
            if members[index].peer.damped, damper.heldUntil(members[index].id, at: now) == nil {
                members[index].peer.damped = false
                beginSlowStart(index, now: now)
            }
            if let began = members[index].peer.slowStartBegan {
                if now - began >= members[index].peer.slowStart {
                    members[index].peer.slowStartBegan = nil
                } else {
                    schedule(began + members[index].peer.slowStart)
                }
            }
        }
        damper.prune(at: now)
        if let next = damper.nextDeadline(after: now) { schedule(next) }
        if structural {
            rebuild()
            if !members.contains(where: { $0.peer.suspect }) { panicking = false }
        }
    }

    /// Stops new connections to `members[index]`; drops it at once if it has none open.
    private mutating func retire(_ index: Int) {
        members[index].peer.suspect = false
        members[index].suspectSince = nil
        if members[index].peer.active == 0 {
            members.remove(at: index)
        } else {
            members[index].peer.removed = true
        }
    }

    /// Applies a reloaded configuration: members that stay keep their counters, health and
    /// balancing state; members that go drain.
    mutating func reconfigure(_ newConfiguration: UpstreamConfiguration) {
        var old: [MemberID: UpstreamMember] = [:]
        for member in members {
            old[member.id] = member
        }
        var next: [UpstreamMember] = []
        var kept: Set<MemberID> = []
        for server in newConfiguration.servers {
            var fresh = Self.member(for: server)
            guard kept.insert(fresh.id).inserted else { continue }
            if var existing = old[fresh.id] {
                existing.peer.setWeight(fresh.peer.weight)
                existing.peer.health.maxFails = fresh.peer.health.maxFails
                existing.peer.health.failTimeout = fresh.peer.health.failTimeout
                existing.peer.maxConns = fresh.peer.maxConns
                existing.peer.backup = fresh.peer.backup
                existing.peer.down = fresh.peer.down
                existing.peer.slowStart = fresh.peer.slowStart
                existing.peer.removed = false
                fresh = existing
            }
            next.append(fresh)
        }
        for var member in members where !kept.contains(member.id) {
            switch member.source {
            case .static:
                member.peer.removed = true
            case .zookeeper:
                if let source = newConfiguration.zookeeper {
                    member.peer.health.maxFails = source.maxFails
                    member.peer.health.failTimeout = source.failTimeout
                    member.peer.slowStart = source.slowStart
                } else {
                    member.peer.removed = true
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

    private mutating func rebuild() {
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

    // MARK: status

    mutating func status(now: Duration, wallClock: Date) -> [MemberStatus] {
        if let nextDeadline, now >= nextDeadline {
            housekeep(now: now)
        }
        let source = Self.source(of: configuration)
        var registered = 0
        var suspects = 0
        for member in members where member.source == .zookeeper && !member.peer.removed {
            if member.peer.suspect {
                suspects += 1
            } else if !member.peer.leaving, !member.peer.draining {
                registered += 1
            }
        }
        func wall(_ offset: Duration) -> String {
            let seconds = Double(offset.components.seconds) + Double(offset.components.attoseconds) / 1e18
            return wallClock.addingTimeInterval(seconds).formatted(.iso8601)
        }
        return members.map { member in
            let state: MemberState
            var reason: String?
            var since: String?
            if member.peer.removed || member.peer.draining {
                state = .draining
            } else if member.peer.leaving {
                state = .leaving
                // Raw here; the admin layer escapes every outside text it shows.
                reason = member.leavingReason ?? ""
            } else if member.peer.down {
                state = .down
            } else if member.peer.damped, let history = damper.history(member.id), let until = history.heldUntil {
                state = .damped
                reason = "\(history.count) changes in \(DurationText.short(source.flapDamping.window)); back at \(wall(until - now))"
                since = wall(.zero)
            } else if member.peer.suspect, let lostAt = member.suspectSince {
                state = .suspect
                reason = "registration lost \(DurationText.short(now - lostAt)) ago; kept: \(registered) of \(registered + suspects) registered, panic threshold \(source.panicThreshold)%"
                since = wall(lostAt - now)
            } else if !single, !member.peer.health.isAvailable(at: now) {
                state = .unavailable
            } else if member.peer.backup {
                state = .backup
            } else if let began = member.peer.slowStartBegan, member.peer.rampPermille(now: now) < SlowStart.full {
                state = .slowStart
                reason = "\(member.peer.rampPermille(now: now) / 10)%"
                since = wall(began - now)
            } else {
                state = .up
            }
            return MemberStatus(
                id: member.id.rawValue, address: member.address, weight: member.peer.weight,
                source: member.source.rawValue, state: state.rawValue, active: member.peer.active, total: member.total,
                failures: member.failures, lastFailure: member.lastFailure.map { Date(timeIntervalSince1970: $0).formatted(.iso8601) },
                lastFailureReason: member.lastFailureReason, reason: reason, since: since)
        }
    }
}
