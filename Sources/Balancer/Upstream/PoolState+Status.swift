import Foundation

/// Every member as the admin endpoint shows it: its `MemberState`, why, and since when.
extension PoolState {
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
