import MusterBase

/// One listener: a `listen` of a `server { ... }` block with that block's proxy settings.
public struct ListenerConfiguration: Sendable, Equatable {
    /// Default `"0.0.0.0"` when `listen` gives only a port.
    public var listenHost: String
    public var listenPort: Int
    /// `listen ... backlog=N`, default 4096 (NIO's 128 is too small for reconnect storms).
    public var backlog: Int
    /// `listen ... reuseport`: one listening socket per event loop sharing the port (as nginx's
    /// `reuseport`), so each loop accepts its own clients. Off by default: with it, another process
    /// of the same user can bind the same port and silently share its clients.
    public var reusePort: Bool
    /// The upstream name from `proxy_pass`.
    public var proxyPass: String
    /// `proxy_connect_timeout`, default 60s.
    public var connectTimeout: Duration
    /// `proxy_timeout`: idle time between two reads or writes, default 10m.
    public var idleTimeout: Duration
    /// `proxy_next_upstream`, default on.
    public var nextUpstream: Bool
    /// `proxy_next_upstream_tries`, 0 = unlimited.
    public var nextUpstreamTries: Int
    /// `proxy_next_upstream_timeout`, `.zero` = unlimited.
    public var nextUpstreamTimeout: Duration
    /// `tcp_nodelay`, default on.
    public var tcpNoDelay: Bool
    /// `proxy_half_close`, default off as in nginx: when either side ends its stream, what it sent
    /// is delivered and the session ends. On: each direction closes on its own (a half-close is
    /// passed through), and the session lasts until both sides have sent EOF.
    public var halfClose: Bool
    /// `accept_rate N [burst=M]`, nil (the default) for no limit.
    public var acceptRate: AcceptRate?
    /// PROXY protocol, realip, allow/deny and limit_conn; nil (the default) for none.
    public var edge: EdgeConfiguration?
    /// `proxy_buffer_size`, nil when the config does not set it. Set, one read of a side takes at
    /// most that many bytes and reading stops while that many wait for its peer, as nginx's buffer
    /// per direction does (capped at the engine's 64 KiB chunk). Unset, the engine's 64 KiB, not
    /// nginx's 16k: fewer reads per byte, and the same pause under backpressure (docs/config.md).
    public var bufferSize: Int?
    /// `proxy_upload_rate` and `proxy_download_rate`: bytes per second read from the client and from
    /// the member, per session (0, the default: no limit).
    public var uploadRate = 0
    public var downloadRate = 0
    /// `error_log` of the server block (else of `stream {}`): where the messages about this
    /// listener's sessions go; empty: the main context's (`BalancerConfiguration.errorLogs(for:)`).
    public var errorLogs: [ErrorLogConfiguration] = []
    /// `access_log` of the server block (else of `stream {}`): one line per session, written at
    /// its close; empty for none (nginx's default).
    public var accessLogs: [AccessLogConfiguration] = []

    /// `listenHost:listenPort`, as the listener is named in logs, reports and bind errors.
    public var listenAddress: Endpoint { Endpoint(host: listenHost, port: listenPort) }

    public static let defaultBacklog = 4096
    /// The host of a `listen` that gives only a port.
    public static let defaultListenHost = "0.0.0.0"

    public init(
        listenHost: String = ListenerConfiguration.defaultListenHost,
        listenPort: Int,
        backlog: Int = ListenerConfiguration.defaultBacklog,
        reusePort: Bool = false,
        proxyPass: String,
        connectTimeout: Duration = .seconds(60),
        idleTimeout: Duration = .seconds(600),
        nextUpstream: Bool = true,
        nextUpstreamTries: Int = 0,
        nextUpstreamTimeout: Duration = .zero,
        tcpNoDelay: Bool = true,
        halfClose: Bool = false,
        acceptRate: AcceptRate? = nil
    ) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.backlog = backlog
        self.reusePort = reusePort
        self.proxyPass = proxyPass
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.nextUpstream = nextUpstream
        self.nextUpstreamTries = nextUpstreamTries
        self.nextUpstreamTimeout = nextUpstreamTimeout
        self.tcpNoDelay = tcpNoDelay
        self.halfClose = halfClose
        self.acceptRate = acceptRate
    }
}
