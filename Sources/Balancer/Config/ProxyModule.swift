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

    /// The times take 0, as nginx's `ngx_conf_set_msec_slot` does, with nginx's meaning: a timer of
    /// 0 ms, which expires at once. A connect that does not complete in the `connect()` call times
    /// out (a failed try); a session is closed as soon as it is idle (`proxy_timeout 0`).
    static let commands: [ConfigCommand<ProxySettings>] = [
        ConfigCommand("proxy_connect_timeout") { settings, directive, reader throws(ConfigError) in
            settings.connectTimeout = try reader.duration(directive)
        },
        ConfigCommand("proxy_timeout") { settings, directive, reader throws(ConfigError) in
            settings.idleTimeout = try reader.duration(directive)
        },
        ConfigCommand("proxy_next_upstream") { settings, directive, reader throws(ConfigError) in
            settings.nextUpstream = try reader.flag(directive)
        },
        ConfigCommand("proxy_next_upstream_tries") { settings, directive, reader throws(ConfigError) in
            settings.nextUpstreamTries = try reader.number(directive, minimum: 0)
        },
        ConfigCommand("proxy_next_upstream_timeout") { settings, directive, reader throws(ConfigError) in
            settings.nextUpstreamTimeout = try reader.duration(directive)
        },
        ConfigCommand("tcp_nodelay") { settings, directive, reader throws(ConfigError) in
            settings.tcpNoDelay = try reader.flag(directive)
        },
        ConfigCommand("proxy_half_close") { settings, directive, reader throws(ConfigError) in
            settings.halfClose = try reader.flag(directive)
        },
        ConfigCommand("proxy_buffer_size") { settings, directive, reader throws(ConfigError) in
            settings.bufferSize = try reader.size(directive.arguments[0], directive.arguments[0].text, name: "proxy_buffer_size", range: 1...(1 << 30))
        },
    ]

    /// A server's settings over the `stream {}` defaults, over nginx's defaults, into `listener`.
    func apply(over defaults: ProxySettings, to listener: inout ListenerConfiguration) {
        listener.connectTimeout = connectTimeout ?? defaults.connectTimeout ?? .seconds(60)
        listener.idleTimeout = idleTimeout ?? defaults.idleTimeout ?? .seconds(600)
        listener.nextUpstream = nextUpstream ?? defaults.nextUpstream ?? true
        listener.nextUpstreamTries = nextUpstreamTries ?? defaults.nextUpstreamTries ?? 0
        listener.nextUpstreamTimeout = nextUpstreamTimeout ?? defaults.nextUpstreamTimeout ?? .zero
        listener.tcpNoDelay = tcpNoDelay ?? defaults.tcpNoDelay ?? true
        listener.halfClose = halfClose ?? defaults.halfClose ?? false
        listener.bufferSize = bufferSize ?? defaults.bufferSize
    }
}
