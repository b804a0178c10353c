import NIOCore
import NIOConcurrencyHelpers

/// Remembers every open client channel so shutdown can close them all.
final class ConnectionTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var accepting = true
    }

    private let state = NIOLockedValueBox(State())

    var count: Int {
        self.state.withLockedValue { $0.channels.count }
    }

    /// Adds `channel`; returns false once shutdown has begun, and the caller must close it.
    func add(_ channel: any Channel) -> Bool {
        let added = self.state.withLockedValue { state in
            guard state.accepting else { return false }
            state.channels[ObjectIdentifier(channel)] = channel
            return true
        }
        if added {
            channel.closeFuture.whenComplete { _ in
                self.state.withLockedValue { _ = $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
            }
        }
        return added
    }

    /// Stops taking channels and returns the ones open now.
    func drain() -> [any Channel] {
        self.state.withLockedValue { state in
            state.accepting = false
            return Array(state.channels.values)
        }
    }
}
