/// Storm handling on the pure clock: suspects timing out, flap damping, slow start, retiring.
extension PoolState {
    mutating func schedule(_ deadline: Duration) {
        nextDeadline = min(nextDeadline ?? deadline, deadline)
    }

    mutating func beginSlowStart(_ index: Int, now: Duration) {
        guard members[index].peer.slowStart > .zero else { return }
        members[index].peer.slowStartBegan = now
        schedule(now + members[index].peer.slowStart)
    }

    /// One change between in and out of service, for flap damping (discovered members only: a
    /// static list is the operator's, and keeps nginx's semantics).
    mutating func noteChange(_ index: Int, now: Duration) {
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
    mutating func retire(_ index: Int) {
        members[index].suspectSince = nil
        if members[index].peer.active == 0 {
            members.remove(at: index)
        } else {
            members[index].peer.presence = .removed
        }
    }
}
