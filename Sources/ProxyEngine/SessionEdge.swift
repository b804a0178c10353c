import ProxyProtocolCodec

/// What a listener checks before a session reaches its upstream (nginx's post-accept, preread and
/// access phases): a PROXY protocol header read first (`listen ... proxy_protocol`), the client
/// address taken from it for trusted peers (`set_real_ip_from`), `allow`/`deny`, `limit_conn`,
/// and either `return VALUE` or the PROXY v1 header sent to the member (`proxy_protocol on`).
/// One per listener and reload, shared by its workers; nil on a route that configures none of it,
/// so a plain listener pays one nil check per connection.
public final class SessionEdge: Sendable {
    public let readsProxyProtocol: Bool
    /// `proxy_protocol_timeout` in ms (nginx's default 30s).
    public let proxyProtocolTimeout: Int64
    public let realIPFrom: [CIDR]
    public let access: AccessList
    public let limits: [ConnectionLimit]
    /// `limit_conn_log_level`, nginx's default error.
    public let limitLogLevel: LogLevel
    /// `return VALUE`: sent to the client, which is then closed; no upstream is picked.
    public let returnValue: EdgeReturn?
    public let sendsProxyProtocol: Bool

    public init(
        readsProxyProtocol: Bool = false, proxyProtocolTimeout: Int64 = 30_000, realIPFrom: [CIDR] = [],
        access: AccessList = AccessList(), limits: [ConnectionLimit] = [], limitLogLevel: LogLevel = .error,
        returnValue: EdgeReturn? = nil, sendsProxyProtocol: Bool = false
    ) {
        self.readsProxyProtocol = readsProxyProtocol
        self.proxyProtocolTimeout = proxyProtocolTimeout
        self.realIPFrom = realIPFrom
        self.access = access
        self.limits = limits
        self.limitLogLevel = limitLogLevel
        self.returnValue = returnValue
        self.sendsProxyProtocol = sendsProxyProtocol
    }

    /// Whether a PROXY header from `peer` gives the client's address (`set_real_ip_from`, as
    /// `ngx_stream_realip_module`).
    func trusts(_ peer: IPAddress?) -> Bool {
        guard let peer else { return false }
        return self.realIPFrom.contains(where: { $0.contains(peer) })
    }

    /// Counts the session in every zone, or refuses it (503) giving back what it took; `refused`
    /// is then the index of the limit that refused it.
    func acquireLimits(remote: IPAddress?, refused: inout Int) -> [LimitHold]? {
        var holds: [LimitHold] = []
        for (index, limit) in self.limits.enumerated() {
            guard let key = limit.key.bytes(remote: remote), !key.isEmpty, key.count <= ConnectionLimitZone.maxKeyLength
            else { continue }
            guard limit.zone.acquire(key, limit: limit.limit) == .admitted else {
                for hold in holds { hold.zone.release(hold.key) }
                refused = index
                return nil
            }
            holds.append(LimitHold(zone: limit.zone, key: key))
        }
        return holds
    }
}

/// `return VALUE`: the value for one session, made at accept from the session's record as it is
/// then (client and PROXY addresses, realip applied; `$server_addr` when `needsServerAddress`; serial;
/// accept time as `end`). One per listener and reload; the value's bytes are the only allocation
/// per connection, and only where `return` is configured.
public struct EdgeReturn: Sendable {
    /// Whether the value needs the connection's local address (a `getsockname` per connection).
    public var needsServerAddress: Bool
    public var render: @Sendable (SessionRecord) -> [UInt8]

    public init(needsServerAddress: Bool = false, render: @escaping @Sendable (SessionRecord) -> [UInt8]) {
        self.needsServerAddress = needsServerAddress
        self.render = render
    }

    /// A fixed value.
    public init(_ bytes: [UInt8]) {
        self.init { _ in bytes }
    }
}

/// `limit_conn ZONE N` with the zone's key.
public struct ConnectionLimit: Sendable {
    public var zone: ConnectionLimitZone
    public var limit: Int
    public var key: LimitKey

    public init(zone: ConnectionLimitZone, limit: Int, key: LimitKey) {
        self.zone = zone
        self.limit = limit
        self.key = key
    }
}

/// A `limit_conn_zone` key. Until stream variables are templates, the two client-address
/// variables nginx's documentation uses.
public enum LimitKey: Sendable, Equatable {
    case binaryRemoteAddress
    case remoteAddress

    func bytes(remote: IPAddress?) -> [UInt8]? {
        guard let remote else { return nil }
        switch self {
        case .binaryRemoteAddress: return remote.bytes
        case .remoteAddress: return Array(remote.text.utf8)
        }
    }
}

/// One zone count a session holds until it ends.
struct LimitHold {
    var zone: ConnectionLimitZone
    var key: [UInt8]
}

/// What a session ended with at the edge, as nginx's `$status` names it (0 while it goes on).
public enum EdgeStatus: UInt16, Sendable {
    case none = 0
    /// `return`.
    case ok = 200
    /// A broken PROXY header, or none before `proxy_protocol_timeout`.
    case badRequest = 400
    case forbidden = 403
    case serviceUnavailable = 503
}
