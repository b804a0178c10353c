/// The nginx stream variables Muster knows (`ngx_stream_variables.c`, `ngx_stream_upstream.c`),
/// named as in a config without the `$`.
public enum StreamVariable: String, Sendable, CaseIterable, Hashable {
    case remoteAddr = "remote_addr"
    case remotePort = "remote_port"
    case binaryRemoteAddr = "binary_remote_addr"
    case serverAddr = "server_addr"
    case serverPort = "server_port"
    case `protocol` = "protocol"
    case status = "status"
    case bytesSent = "bytes_sent"
    case bytesReceived = "bytes_received"
    case sessionTime = "session_time"
    case connection = "connection"
    case msec = "msec"
    case timeLocal = "time_local"
    case timeISO8601 = "time_iso8601"
    case hostname = "hostname"
    case pid = "pid"
    case nginxVersion = "nginx_version"
    case upstreamAddr = "upstream_addr"
    case upstreamBytesSent = "upstream_bytes_sent"
    case upstreamBytesReceived = "upstream_bytes_received"
    case upstreamConnectTime = "upstream_connect_time"
    case upstreamFirstByteTime = "upstream_first_byte_time"
    case upstreamSessionTime = "upstream_session_time"
    case proxyProtocolAddr = "proxy_protocol_addr"
    case proxyProtocolPort = "proxy_protocol_port"
    case realipRemoteAddr = "realip_remote_addr"
    case realipRemotePort = "realip_remote_port"

    /// `$nginx_version`: the nginx release whose stream module and config Muster follows, so that a
    /// config (or nginx-tests' `has_version`) comparing it reads nginx's numbering. Muster has no
    /// version number of its own in that form; `deploy/nginx-shim -v` reports the same release.
    public static let nginxRelease = "1.22.1"

    /// Whether a connection's local address is needed (a `getsockname` per connection).
    var needsServerAddress: Bool { self == .serverAddr || self == .serverPort }
}
