import Foundation

/// The pure state of one upstream group: members, nginx balancing state, passive health and
/// counters. No locking and no I/O; `UpstreamPool` wraps it in a mutex and supplies the clock.
struct UpstreamState: Sendable {
    private(set) var configuration: UpstreamConfiguration
    private(set) var members: [UpstreamMember] = []
    private var indexByID: [MemberID: Int] = [:]

    // Derived from `members`, rebuilt on every structural or weight change, never per pick.
    private var single = false
    private var primaryWeight = 0
    private var ring = ConsistentHashRing()
    private var randomRanges: [Int] = []
    private var randomMembers: [Int] = []
    private var generator: SplitMix64

    init(configuration: UpstreamConfiguration, seed: UInt64) {
        self.configuration = configuration
        self.generator = SplitMix64(seed: seed)
        for server in configuration.servers {
            members.append(Self.member(for: server))
        }
        rebuild()
    }

    private static func member(for server: StaticServer) -> UpstreamMember {
        UpstreamMember(
            id: .staticServer(host: server.host, port: server.port), host: server.host, port: server.port,
            source: .static, weight: max(1, server.weight), maxFails: server.maxFails, failTimeout: server.failTimeout,
            maxConns: server.maxConns, backup: server.backup, down: server.down
        )
    }

    // MARK: picking

    /// Chooses a member and reserves a connection slot on it (nginx counts `conns` at get-peer time).
    mutating func pick(clientAddress: String?, excluding: Set<MemberID>, now: Duration) -> Int? {
        let context = PickContext(now: now, excluding: excluding, single: single)
        var chosen: Int?
        switch configuration.method {
        case .roundRobin:
            chosen = RoundRobinPicker.pick(&members, backup: false, context: context)
                ?? RoundRobinPicker.pick(&members, backup: true, context: context)
        case .leastConn:
            if single {
                chosen = RoundRobinPicker.pick(&members, backup: false, context: context)
            } else {
                chosen = LeastConnPicker.pick(&members, backup: false, context: context)
            }
            if chosen == nil {
                chosen = LeastConnPicker.pick(&members, backup: true, context: context)
            }
        case .hash(let consistent):
            if let key = clientAddress, !key.isEmpty, !single {
                chosen = consistent
                    ? ring.pick(&members, key: key, context: context)
                    : HashPicker.pick(&members, key: key, primaryWeight: primaryWeight, context: context)
            } else {
                chosen = RoundRobinPicker.pick(&members, backup: false, context: context)
            }
        case .random(let two):
            if single || (two && randomMembers.count < 2) {
                chosen = RoundRobinPicker.pick(&members, backup: false, context: context)
            } else {
                chosen = RandomPicker.pick(
                    &members, ranges: randomRanges, rangeMembers: randomMembers, two: two,
                    generator: &generator, context: context)
            }
        }
        guard let chosen else { return nil }
        members[chosen].peer.health.picked(at: now)
        members[chosen].peer.active += 1
        members[chosen].total += 1
        return chosen
    }

    func member(at index: Int) -> UpstreamMember { members[index] }

    // MARK: outcomes

    mutating func connectSucceeded(_ id: MemberID) {
        guard let index = indexByID[id] else { return }
        members[index].peer.health.succeeded()
    }

    /// Returns true when this failure took the member out of service (for logging).
    @discardableResult
    mutating func connectFailed(_ id: MemberID, reason: String, now: Duration, wallClock: Date) -> Bool {
        guard let index = indexByID[id] else { return false }
        members[index].failures += 1
        members[index].lastFailure = wallClock.timeIntervalSince1970
        members[index].lastFailureReason = reason
        var tripped = false
        // nginx does no failure accounting for a lone peer: there is nothing else to send clients to.
        if !single {
            tripped = members[index].peer.health.failed(at: now)
            members[index].peer.lowerEffectiveWeight()
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

    mutating func applyMembership(_ records: [DiscoveredMember], stale: Bool) -> MembershipChange {
        var change = MembershipChange()
        // Without a zookeeper directive (a caller feeding members by hand) nginx's defaults apply.
        let source = configuration.zookeeper ?? ZooKeeperSource(connectString: "", path: "")
        var seen: Set<MemberID> = []
        var structural = false
        for record in records {
            guard !record.id.isEmpty else {
                change.rejected.append("record with an empty id")
                continue
            }
            guard !record.host.isEmpty, !record.host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                change.rejected.append("\(record.id): invalid host \"\(record.host)\"")
                continue
            }
            guard (1...65535).contains(record.port) else {
                change.rejected.append("\(record.id): invalid port \(record.port)")
                continue
            }
            let id = MemberID.discovered(record.id)
            guard seen.insert(id).inserted else {
                change.rejected.append("\(record.id): duplicate id")
                continue
            }
            // Weights come from remote records; keep them in the range the config accepts.
            let weight = min(max(record.weight, 1), ConfigValidator.maximumWeight)
            if let index = indexByID[id] {
                var member = members[index]
                var changed = false
                if member.peer.removed {
                    member.peer.removed = false
                    changed = true
                    structural = true
                }
                if member.host != record.host || member.port != record.port {
                    member.host = record.host
                    member.port = record.port
                    member.address = MemberID.address(host: record.host, port: record.port)
                    changed = true
                    structural = true
                }
                if member.peer.weight != weight {
                    member.peer.setWeight(weight)
                    changed = true
                    structural = true
                }
                if member.peer.draining != record.draining {
                    member.peer.draining = record.draining
                    changed = true
                }
                members[index] = member
                if changed { change.updated.append(id) }
            } else {
                var member = UpstreamMember(
                    id: id, host: record.host, port: record.port, source: .zookeeper, weight: weight,
                    maxFails: source.maxFails, failTimeout: source.failTimeout)
                member.peer.draining = record.draining
                members.append(member)
                indexByID[id] = members.count - 1
                change.added.append(id)
                structural = true
            }
        }
        if stale {
            // The registry is unreachable: this is the last known set, not proof that anyone left.
            change.keptBecauseStale = true
        } else {
            for index in members.indices.reversed()
            where members[index].source == .zookeeper && !members[index].peer.removed && !seen.contains(members[index].id) {
                change.removed.append(members[index].id)
                retire(index)
                structural = true
            }
        }
        if structural { rebuild() }
        return change
    }

    /// Stops new connections to `members[index]`; drops it at once if it has none open.
    private mutating func retire(_ index: Int) {
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
                } else {
                    member.peer.removed = true
                }
            }
            if member.peer.removed, member.peer.active == 0 { continue }
            next.append(member)
        }
        configuration = newConfiguration
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
        primaryWeight = 0
        randomRanges.removeAll(keepingCapacity: true)
        randomMembers.removeAll(keepingCapacity: true)
        for index in members.indices where members[index].peer.listed {
            if members[index].peer.backup {
                backups += 1
            } else {
                primaries += 1
                primaryWeight += members[index].peer.weight
                randomRanges.append(primaryWeight)
                randomMembers.append(index)
            }
        }
        single = primaries == 1 && backups == 0
        if case .hash(consistent: true) = configuration.method {
            ring = ConsistentHashRing(members: members)
        } else {
            ring = ConsistentHashRing()
        }
    }

    // MARK: status

    func status(now: Duration) -> [MemberStatus] {
        members.map { member in
            let state: String
            if member.peer.removed || member.peer.draining {
                state = "draining"
            } else if member.peer.down {
                state = "down"
            } else if !single, !member.peer.health.isAvailable(at: now) {
                state = "unavailable"
            } else if member.peer.backup {
                state = "backup"
            } else {
                state = "up"
            }
            return MemberStatus(
                id: member.id.rawValue, address: member.address, weight: member.peer.weight,
                source: member.source.rawValue, state: state, active: member.peer.active, total: member.total,
                failures: member.failures, lastFailure: member.lastFailure.map { Date(timeIntervalSince1970: $0).formatted(.iso8601) },
                lastFailureReason: member.lastFailureReason)
        }
    }
}
