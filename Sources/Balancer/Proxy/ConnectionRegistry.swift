import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// The accepted client channels still open, so a graceful shutdown can wait for them and then close
/// what is left, and so `events { worker_connections N; }` can cap them. Touched once per accept and
/// once per close, never per read.
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: Channel] = [:]
        var waiters: [CheckedContinuation<Void, Never>] = []
        var limit: Int?
    }
    private let state = NIOLockedValueBox(State())
    private let logger: Logger
    private let refused: Counter?
    private let refusedLog = RateLimiter(interval: .seconds(1))

    init(logger: Logger = Logger(label: "muster.balancer", factory: { _ in SwiftLogNoOpLogHandler() }), refused: Counter? = nil) {
        self.logger = logger
        self.refused = refused
    }

    var count: Int {
        self.state.withLockedValue { $0.channels.count }
    }

    /// The open client channels (for tests and diagnostics).
    var channels: [Channel] {
        self.state.withLockedValue { Array($0.channels.values) }
    }

    /// The most client connections open at once (`worker_connections`); nil for no limit but open files.
    /// A lower limit applies to new clients only: established ones are never closed for it.
    var limit: Int? {
        get { self.state.withLockedValue { $0.limit } }
        set { self.state.withLockedValue { $0.limit = newValue } }
    }

    /// Adds an accepted client, or returns false (and counts and, at most once a second, logs it)
    /// when `limit` clients are already open; the caller then closes the channel, as nginx closes an
    /// accepted socket when its worker has no free connection.
    func admit(_ channel: Channel) -> Bool {
        let key = ObjectIdentifier(channel)
        let limit: Int? = self.state.withLockedValue { state in
            if let limit = state.limit, state.channels.count >= limit {
                return limit
            }
            state.channels[key] = channel
            return nil
        }
        if let limit {
            self.refused?.increment()
            if let suppressed = self.refusedLog.admit() {
                self.logger.warning(
                    "worker_connections are not enough: client refused",
                    metadata: ["worker_connections": "\(limit)", "suppressed": "\(suppressed)"])
            }
            return false
        }
        channel.closeFuture.whenComplete { _ in
            self.remove(key)
        }
        return true
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
