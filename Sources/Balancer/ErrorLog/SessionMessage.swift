#if canImport(Glibc)
import Glibc
#endif
import ProxyEngine

/// What nginx's stream modules write for a session event, after the line's time, level and pid:
/// `*3 no live upstreams while connecting to upstream, client: 127.0.0.1, server: 127.0.0.1:8080,
/// upstream: "u", bytes from/to client:0/0, bytes from/to upstream:0/0`. One per listener: it knows
/// the listener's address, its upstream and its `limit_conn` zones.
struct SessionMessage: Sendable {
    /// The `listen` address, as nginx's `listening->addr_text`.
    var listen: String
    /// The `proxy_pass` upstream, named when no member could be picked.
    var upstream: String
    /// The names of the listener's `limit_conn` zones, in the order the engine counts them.
    var zones: [String]

    func text(_ event: SessionEvent) -> String {
        let client = Self.address(event.client)
        var text = "*\(event.serial) "
        switch event.kind {
        case .clientConnected:
            return text + "client \(client) connected to \(self.listen)"
        case .upstreamConnected:
            return text + "proxy \(Self.address(event.local)) connected to \(Self.address(event.peer))"
        case .disconnected:
            return text + "\(event.byUpstream ? "upstream" : "client") disconnected" + Self.bytes(event)
        case .forbidden:
            text += "access forbidden by rule"
            return text + self.context(event, action: "initializing session", upstream: nil)
        case .limited:
            let zone = Int(event.limit) < self.zones.count ? self.zones[Int(event.limit)] : "?"
            text += "limiting connections by zone \"\(zone)\""
            return text + self.context(event, action: "initializing session", upstream: nil)
        case .badProxyHeader:
            text += event.error == ETIMEDOUT ? "client timed out" + Self.errno(ETIMEDOUT) : "broken header"
            return text + self.context(event, action: "reading PROXY protocol", upstream: nil)
        case .noLiveUpstreams:
            text += "no live upstreams"
            return text + self.context(event, action: "connecting to upstream", upstream: self.upstream)
        case .connectFailed:
            switch event.error {
            case ETIMEDOUT: text += "upstream timed out" + Self.errno(ETIMEDOUT)
            case 0: text += "connect() failed: the member's address cannot be resolved"
            default: text += "connect() failed" + Self.errno(event.error)
            }
            return text + self.context(event, action: "connecting to upstream", upstream: Self.address(event.peer))
        case .idleTimedOut:
            text += "connection timed out" + Self.errno(ETIMEDOUT)
            return text + self.context(event, action: "proxying connection", upstream: Self.address(event.peer))
        }
    }

    /// nginx's log handlers: ` while ACTION, client: C, server: S`, and once the proxy module has
    /// the session, `, upstream: "U", bytes ...`.
    private func context(_ event: SessionEvent, action: String, upstream: String?) -> String {
        var text = " while \(action), client: \(String(decoding: SessionValues.text(event.client), as: UTF8.self)), server: \(self.listen)"
        if let upstream {
            text += ", upstream: \"\(upstream)\"" + Self.bytes(event)
        }
        return text
    }

    private static func bytes(_ event: SessionEvent) -> String {
        ", bytes from/to client:\(event.clientReceived)/\(event.clientSent)"
            + ", bytes from/to upstream:\(event.upstreamReceived)/\(event.upstreamSent)"
    }

    /// ` (111: Connection refused)`, as `ngx_log_errno`.
    private static func errno(_ code: Int32) -> String {
        " (\(code): \(String(cString: strerror(code))))"
    }

    private static func address(_ address: RecordAddress) -> String {
        address.family == .none ? "-" : String(decoding: SessionValues.addressWithPort(address), as: UTF8.self)
    }
}
