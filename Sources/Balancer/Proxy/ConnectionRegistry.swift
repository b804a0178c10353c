import NIOConcurrencyHelpers
import NIOCore

/// The accepted client channels still open, so a graceful shutdown can wait for them and then close
/// what is left. Touched once per accept and once per close, never per read.
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: Channel] = [:]
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = NIOLockedValueBox(State())

    var count: Int {
        self.state.withLockedValue { $0.channels.count }
    }

    func add(_ channel: Channel) {
        let key = ObjectIdentifier(channel)
        self.state.withLockedValue { $0.channels[key] = channel }
        channel.closeFuture.whenComplete { _ in
            self.remove(key)
        }
    }

    private func remove(_ key: ObjectIdentifier) {
        let waiters: [CheckedContinuation<Void, Never>] = self.state.withLockedValue { state in
            state.channels[key] = nil
            guard state.channels.isEmpty else { return [] }
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters {
            waiter.resume()
        }
    }

    /// Returns once no connection is open.
    func waitUntilEmpty() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = self.state.withLockedValue { state in
                if state.channels.isEmpty { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready {
                continuation.resume()
            }
        }
    }

    /// Closes every open connection (the end of a drain).
    func closeAll() {
        let channels = self.state.withLockedValue { Array($0.channels.values) }
        for channel in channels {
            channel.close(promise: nil)
        }
    }
}
