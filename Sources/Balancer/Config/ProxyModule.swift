/// The proxy module's settings of a `server` block (nginx's `ngx_stream_proxy_module`, with
/// `tcp_nodelay` from the core module); also accepted at `stream {}` level as the servers'
/// defaults, as nginx does. Unset (nil) until a directive gives a value.
struct ProxySettings {
    var connectTimeout: Duration?
    var idleTimeout: Duration?
    var nextUpstream: Bool?
    var nextUpstreamTries: Int?
    var nextUpstreamTimeout: Duration?
    var tcpNoDelay: Bool?
    var halfClose: Bool?
    var bufferSize: Int?
    var uploadRate: Int?
    var downloadRate: Int?

    /// The times take 0, as nginx's `ngx_conf_set_msec_slot` does, with nginx's meaning: a timer of
    /// 0 ms, which expires at once. A connect that does not complete in the `connect()` call times
    /// out (a failed try); a session is closed as soon as it is idle (`proxy_timeout 0`).
    static let commands: [ConfigCommand<ProxySettings>] = [
        .duration("proxy_connect_timeout", \.connectTimeout),
        .duration("proxy_timeout", \.idleTimeout),
        .flag("proxy_next_upstream", \.nextUpstream),
        .slot("proxy_next_upstream_tries", \.nextUpstreamTries) { reader, directive throws(ConfigError) in
            try reader.number(directive, minimum: 0)
        },
        .duration("proxy_next_upstream_timeout", \.nextUpstreamTimeout),
        .flag("tcp_nodelay", \.tcpNoDelay),
        .flag("proxy_half_close", \.halfClose),
        .slot("proxy_buffer_size", \.bufferSize) { reader, directive throws(ConfigError) in
            try reader.size(directive, range: 1...(1 << 30))
        },
        // Bytes per second, nginx's size syntax (`1m`); 0 is no limit.
        .slot("proxy_upload_rate", \.uploadRate) { reader, directive throws(ConfigError) in
            try reader.size(directive, range: 0...(1 << 40))
        },
        .slot("proxy_download_rate", \.downloadRate) { reader, directive throws(ConfigError) in
            try reader.size(directive, range: 0...(1 << 40))
        },
    ]

    /// A server's settings over the `stream {}` defaults, into `listener`; what neither sets keeps
    /// the listener's own default, nginx's, which `ListenerConfiguration.init` holds.
    func apply(over defaults: ProxySettings, to listener: inout ListenerConfiguration) {
        // nginx's ngx_conf_merge_*_value: the server's value, else the stream's, else the default.
        func merge<Value>(_ setting: KeyPath<ProxySettings, Value?>, into field: WritableKeyPath<ListenerConfiguration, Value>) {
            listener[keyPath: field] = self[keyPath: setting] ?? defaults[keyPath: setting] ?? listener[keyPath: field]
        }
        merge(\.connectTimeout, into: \.connectTimeout)
        merge(\.idleTimeout, into: \.idleTimeout)
        merge(\.nextUpstream, into: \.nextUpstream)
        merge(\.nextUpstreamTries, into: \.nextUpstreamTries)
        merge(\.nextUpstreamTimeout, into: \.nextUpstreamTimeout)
        merge(\.tcpNoDelay, into: \.tcpNoDelay)
        merge(\.halfClose, into: \.halfClose)
        merge(\.uploadRate, into: \.uploadRate)
        merge(\.downloadRate, into: \.downloadRate)
        // No default to keep: unset stays nil, the engine's own read size.
        listener.bufferSize = bufferSize ?? defaults.bufferSize
    }
}
