import Registry

// The registry's way into a pool, in one place: the locked entry (`MemberPool.apply`), the one
// comparison of a record with the member it updates, the one conversion from a record to a
// `PoolMember`, staleness, and the panic threshold for lost members.

extension MemberPool {
    /// Applies one snapshot of `MembershipWatch.snapshots()`. A fresh one is the whole discovered
    /// set: members missing from it drain. A stale one (registry unreachable) only adds and updates,
    /// so it never empties the pool. Records that `MemberRecord.read()` refuses are rejected.
    @discardableResult
    public func apply(_ snapshot: MembershipSnapshot) -> MembershipChange {
        withState { $0.apply(snapshot, now: $1) }
    }

    /// Applies member records as one snapshot (`apply(_:)`).
    @discardableResult
    public func applyMembership(_ members: [MemberRecord], stale: Bool) -> MembershipChange {
        apply(MembershipSnapshot(members: members, stale: stale))
    }

    /// The registry feed as the admin endpoint shows it: stale, fed at least once, its error.
    var membership: MembershipState {
        withState { state, _ in state.membership }
    }

    /// The feed could not start (its error), or starts again (nil).
    func membershipFailed(_ error: String?) {
        withState { state, _ in state.membershipFailed(error) }
    }
}

/// Registry snapshots: new, changed, leaving and gone members, the panic threshold for lost ones.
extension PoolState {
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
                switch member.peer.presence {
                case .removed:
                    changed = true
                    structural = true
                    returned = true
                case .suspect:
                    // Registered again: a normal member.
                    member.suspectSince = nil
                    changed = true
                case .present:
                    break
                }
                member.peer.presence = .present
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
                let member = PoolMember(record: record, source: source)
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
                    members[index].peer.presence = .suspect
                    members[index].suspectSince = now
                    change.suspected.append(members[index].id)
                    schedule(now + source.suspectTimeout)
                }
                for (saved, lostAt) in recentlyLost {
                    if let index = indexByID[saved.id] {
                        // Still draining its connections: back in service.
                        members[index].peer.presence = .suspect
                        members[index].suspectSince = lostAt
                    } else {
                        var member = saved
                        member.peer.active = 0
                        member.peer.presence = .suspect
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
