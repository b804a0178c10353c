/// What a listener's connections are proxied with: settings plus the upstream group's pick and
/// reports. The balancer implements it over its upstream pool; the engine calls it once or twice per
/// connection (pick, then connected or failed, then closed), never per read.
///
/// Routes are swapped as a whole on reload; an established connection keeps the route it started with.
public protocol ProxyRoute: AnyObject, Sendable {
    var settings: RouteSettings { get }
    /// Counters of the route's upstream group, one row per worker.
    var counters: EngineCounters { get }
    /// Picks a member for a new connection and reserves a slot for it, skipping `tried`;
    /// nil = no live upstreams. `clientAddress` is given only if `settings.needsClientAddress`.
    func pick(clientAddress: String?, tried: [String]) -> UpstreamPeer?
    /// The connection to `peer` is established (passive health: a trial connection succeeded).
    func connected(_ peer: String)
    /// Connecting failed or timed out: counts for passive health and releases the slot.
    func connectFailed(_ peer: String, reason: ConnectFailure)
    /// The connection to `peer` ended (or was abandoned before it was established): releases the slot.
    func closed(_ peer: String)
    /// A client was closed because no member could be picked.
    func noLiveUpstreams()
    /// How many members one session may try, as nginx's `peer.tries` counts them (every member not
    /// `down`, backups included): the first pick is always made, and after that many failed tries
    /// nginx ends the session without asking for another member, so only a pick that finds none
    /// before then is a try of its own (`$upstream_addr` names the group). nginx-tests'
    /// stream_upstream_zone.t and stream_proxy_next_upstream.t check both.
    var peerTries: Int { get }
    /// The listener's `accept_rate`, nil for none. The same object across reloads that keep the rate.
    var acceptLimiter: AcceptLimiter? { get }
    /// The listener's PROXY protocol, realip, access, limit_conn and return settings; nil for none.
    var edge: SessionEdge? { get }
    /// Where finished sessions' records go, nil (no record kept) when the listener has no access log.
    var sessionLog: SessionLog? { get }
    /// Where the messages about sessions go (the listener's `error_log`), nil for none.
    var errorLog: SessionErrorLog? { get }
    /// A `hash KEY` other than `$remote_addr`: evaluated once per connection at its first pick and
    /// handed to `pick` as `clientAddress`; nil for none.
    var pickKey: PickKey? { get }
}

extension ProxyRoute {
    public var peerTries: Int { .max }
    public var acceptLimiter: AcceptLimiter? { nil }
    public var edge: SessionEdge? { nil }
    public var sessionLog: SessionLog? { nil }
    public var errorLog: SessionErrorLog? { nil }
    public var pickKey: PickKey? { nil }

    /// Whether the worker keeps a `SessionRecord` for each session: a pick key and `return` read it,
    /// an access log is sent it.
    var keepsRecord: Bool { self.sessionLog != nil || self.errorLog != nil || self.pickKey != nil || self.edge?.returnValue != nil }
}

/// A pick key made from a connection's addresses, serial and PROXY header (nginx's `hash KEY`
/// complex value). One per route; the engine fills a `SessionRecord` with what is known at pick time.
public struct PickKey: Sendable {
    /// Whether the key reads the local address (a `getsockname` per connection).
    public var needsServerAddress: Bool
    public var evaluate: @Sendable (borrowing SessionRecord) -> String?

    public init(needsServerAddress: Bool, evaluate: @escaping @Sendable (borrowing SessionRecord) -> String?) {
        self.needsServerAddress = needsServerAddress
        self.evaluate = evaluate
    }
}

/// The per-listener settings the data path applies (nginx's `proxy_*` directives), in milliseconds.
public struct RouteSettings: Sendable, Equatable {
    public var connectTimeout: Int64
    /// `proxy_timeout`, 0 = none.
    public var idleTimeout: Int64
    public var halfClose: Bool
    public var tcpNoDelay: Bool
    public var nextUpstream: Bool
    /// 0 = unlimited.
    public var nextUpstreamTries: Int
    /// 0 = unlimited.
    public var nextUpstreamTimeout: Int64
    /// Whether `pick` needs the client's address (hash balancing).
    public var needsClientAddress: Bool
    /// `proxy_buffer_size`: the most one read takes and the most queued for a side before its peer
    /// pauses (`SessionState.bufferLimit`, at most `SessionState.backpressureLimit`).
    public var bufferSize: Int
    /// `proxy_upload_rate` and `proxy_download_rate`: bytes per second read from the client and
    /// from the member, 0 = no limit.
    public var uploadRate: Int
    public var downloadRate: Int

    public init(
        connectTimeout: Int64, idleTimeout: Int64, halfClose: Bool, tcpNoDelay: Bool = true, nextUpstream: Bool = true,
        nextUpstreamTries: Int = 0, nextUpstreamTimeout: Int64 = 0, needsClientAddress: Bool = false,
        bufferSize: Int = SessionState.backpressureLimit, uploadRate: Int = 0, downloadRate: Int = 0
    ) {
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.halfClose = halfClose
        self.tcpNoDelay = tcpNoDelay
        self.nextUpstream = nextUpstream
        self.nextUpstreamTries = nextUpstreamTries
        self.nextUpstreamTimeout = nextUpstreamTimeout
        self.needsClientAddress = needsClientAddress
        self.bufferSize = bufferSize
        self.uploadRate = uploadRate
        self.downloadRate = downloadRate
    }
}

/// A picked member: the route's key for it (handed back in reports) and where to connect.
public typealias UpstreamPeer = (key: String, address: EngineAddress)

/// Why an upstream connect failed.
public enum ConnectFailure: Sendable, Equatable, CustomStringConvertible {
    case timedOut
    case error(Int32)
    /// The member's address could not be resolved.
    case badAddress

    public var description: String {
        switch self {
        case .timedOut:
            return "connect timed out"
        case .badAddress:
            return "connect failed: address cannot be resolved"
        case .error(let code):
            return "connect failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }

    /// The system error behind the failure, as nginx logs it: ETIMEDOUT for a timeout, 0 for none.
    public var errorNumber: Int32 {
        switch self {
        case .timedOut: return ETIMEDOUT
        case .badAddress: return 0
        case .error(let code): return code
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
