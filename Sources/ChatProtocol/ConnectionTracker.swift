import NIOCore
import Synchronization

/// Remembers every open client channel so shutdown can close them all.
final class ConnectionTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var accepting = true
    }

    private let state = Mutex(State())

    var count: Int {
        self.state.withLock { $0.channels.count }
    }

    /// Adds `channel`; returns false once shutdown has begun, and the caller must close it.
    func add(_ channel: any Channel) -> Bool {
        let added = self.state.withLock { state in
            guard state.accepting else { return false }
            state.channels[ObjectIdentifier(channel)] = channel
            return true
        }
        if added {
            channel.closeFuture.whenComplete { _ in
                self.state.withLock { _ = $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
            }
        }
        return added
    }

    /// Stops taking channels and returns the ones open now.
    func drain() -> [any Channel] {
        self.state.withLock { state in
            state.accepting = false
            return Array(state.channels.values)
        }
    }
}
