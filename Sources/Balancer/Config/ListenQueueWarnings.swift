/// A `listen` whose `backlog=` is above the kernel's `net.core.somaxconn`, which `listen(2)`
/// applies without a word: clients beyond it are not queued (their SYNs are dropped and retried a
/// second or more later), and the queue is what a reconnect storm and `accept_rate` rely on.
public struct ListenQueueWarning: Sendable, Equatable, CustomStringConvertible {
    /// `host:port` as written in listener keys.
    public var listen: String
    /// `listen, FILE:LINE:COL`, when known.
    public var origin: String?
    public var backlog: Int
    public var cap: Int

    public var description: String {
        let origin = self.origin.map { " (\($0))" } ?? ""
        return "listen \(self.listen)\(origin): backlog=\(self.backlog) is above net.core.somaxconn (\(self.cap)), so the kernel queues at most \(self.cap) waiting clients; raise the sysctl (sysctl -w net.core.somaxconn=\(self.backlog)) for that backlog"
    }
}

extension BalancerConfiguration {
    /// The listens whose backlog is above `cap` (`net.core.somaxconn`), once each.
    public func listenQueueWarnings(cap: Int) -> [ListenQueueWarning] {
        var seen: Set<String> = []
        var warnings: [ListenQueueWarning] = []
        for listener in self.listeners where listener.backlog > cap {
            let key = listener.listenAddress.description
            guard seen.insert(key).inserted else { continue }
            warnings.append(ListenQueueWarning(listen: key, origin: self.listenOrigins[key], backlog: listener.backlog, cap: cap))
        }
        return warnings
    }
}
