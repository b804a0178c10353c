import NIOConcurrencyHelpers
import ProxyEngine

/// One `listen`, accepted by the engine's workers: one socket shared by every worker
/// (`EPOLLEXCLUSIVE`: one worker is woken per connection), or, with `listen ... reuseport`, one
/// socket per worker sharing the port through `SO_REUSEPORT`, so the kernel spreads clients over
/// the workers. That is opt-in, as in nginx, because any other process of the same user could then
/// bind the port too and silently take a share of the clients instead of failing with "address in use".
final class ProxyListener: Sendable {
    let key: String
    let sockets: ProxyEngine.Listener
    private let target: NIOLockedValueBox<ListenerTarget>
    /// The `accept_rate` bucket, shared by the workers; kept across reloads that keep the rate.
    private let limiter: NIOLockedValueBox<AcceptLimiter?>
    private let engine: ProxyEngine

    private init(key: String, sockets: ProxyEngine.Listener, target: ListenerTarget, limiter: AcceptLimiter?, engine: ProxyEngine) {
        self.key = key
        self.sockets = sockets
        self.target = NIOLockedValueBox(target)
        self.limiter = NIOLockedValueBox(limiter)
        self.engine = engine
    }

    static func limiter(for rate: AcceptRate?, keeping current: AcceptLimiter? = nil) -> AcceptLimiter? {
        guard let rate else { return nil }
        if let current, current.rate == rate.rate, current.burst == rate.burst { return current }
        return AcceptLimiter(rate: rate.rate, burst: rate.burst)
    }

    static func key(for server: ListenerConfiguration) -> String {
        server.listenAddress.description
    }

    var currentTarget: ListenerTarget {
        self.target.withLockedValue { $0 }
    }

    /// The bound port (the one picked for port 0).
    var port: Int { self.sockets.port }

    /// Points new connections at new settings; established ones keep what they started with.
    func update(_ target: ListenerTarget) {
        self.target.withLockedValue { $0 = target }
        let limiter = self.limiter.withLockedValue { limiter in
            limiter = Self.limiter(for: target.server.acceptRate, keeping: limiter)
            return limiter
        }
        self.engine.update(self.sockets, route: PoolRoute(target: target, acceptLimiter: limiter))
    }

    /// Binds the sockets and starts accepting. Accepted sockets inherit TCP_NODELAY from the
    /// listening socket; only a reload that flips `tcp_nodelay` costs a system call per client.
    static func bind(target: ListenerTarget, engine: ProxyEngine) throws(EngineError) -> ProxyListener {
        let server = target.server
        let sockets = try engine.bind(
            host: server.listenHost, port: server.listenPort, backlog: server.backlog, reusePort: server.reusePort,
            tcpNoDelay: server.tcpNoDelay)
        let limiter = Self.limiter(for: server.acceptRate)
        engine.add(sockets, route: PoolRoute(target: target, acceptLimiter: limiter))
        return ProxyListener(key: Self.key(for: server), sockets: sockets, target: target, limiter: limiter, engine: engine)
    }

    /// Stops accepting; established connections are not affected.
    func close() async {
        await self.engine.remove(self.sockets)
    }
}
