import ProxyEngine

/// The directives of nginx's stream realip, access and limit_conn modules and of the PROXY
/// protocol (`proxy_protocol`, `proxy_protocol_timeout`), in `stream {}` (defaults for every
/// server) and `server {}`, as nginx merges them: a server that lists any `allow`/`deny`, any
/// `set_real_ip_from` or any `limit_conn` replaces the stream's list; the others fall back one by one.
struct EdgeSettings {
    var realIPFrom: [CIDR]?
    var access: [AccessList.Rule]?
    var limits: [(zone: ConfigDirective.Argument, limit: Int)]?
    var limitLogLevel: LogLevel?
    var proxyProtocol: Bool?
    var proxyProtocolTimeout: Duration?

    static let commands: [ConfigCommand<EdgeSettings>] = [
        ConfigCommand("set_real_ip_from", repeats: true) { edge, directive, reader throws(ConfigError) in
            edge.realIPFrom = (edge.realIPFrom ?? []) + [try block(directive.arguments[0], reader)]
        },
        ConfigCommand("allow", repeats: true) { edge, directive, reader throws(ConfigError) in
            edge.access = (edge.access ?? []) + [try rule(directive, allows: true, reader)]
        },
        ConfigCommand("deny", repeats: true) { edge, directive, reader throws(ConfigError) in
            edge.access = (edge.access ?? []) + [try rule(directive, allows: false, reader)]
        },
        ConfigCommand("limit_conn", arguments: 2...2, repeats: true) { edge, directive, reader throws(ConfigError) in
            let count = directive.arguments[1]
            let limit = try reader.number(count, count.text, name: "number of connections", minimum: 1, maximum: 65535)
            if edge.limits?.contains(where: { $0.zone.text == directive.arguments[0].text }) == true {
                throw reader.error(directive, "\"limit_conn \(ConfigError.shown(directive.arguments[0].text))\" is duplicate")
            }
            edge.limits = (edge.limits ?? []) + [(directive.arguments[0], limit)]
        },
        // The level of the "limiting connections" message in the listener's error log.
        ConfigCommand("limit_conn_log_level") { edge, directive, reader throws(ConfigError) in
            let text = directive.arguments[0].text
            guard ["info", "notice", "warn", "error"].contains(text), let level = ErrorLogConfiguration.level(named: text) else {
                throw reader.error(directive.arguments[0], "invalid value \"\(ConfigError.shown(text))\" in \"limit_conn_log_level\", it must be info, notice, warn or error")
            }
            edge.limitLogLevel = level
        },
        .flag("proxy_protocol", \.proxyProtocol),
        // 0 as nginx: a header not already there when the connection is accepted is too late.
        .duration("proxy_protocol_timeout", \.proxyProtocolTimeout),
    ]

    /// `ADDRESS`, `ADDRESS/LENGTH` (nginx's ngx_ptocidr; host bits are cleared, as nginx does
    /// after its warning).
    private static func block(_ argument: ConfigDirective.Argument, _ reader: ConfigReader) throws(ConfigError) -> CIDR {
        guard let block = CIDR(text: argument.text) else {
            throw reader.error(argument, "invalid address or CIDR \"\(ConfigError.shown(argument.text))\" (expected e.g. 192.0.2.0/24, 2001:db8::/32 or 192.0.2.1)")
        }
        return block
    }

    private static func rule(_ directive: ConfigDirective, allows: Bool, _ reader: ConfigReader) throws(ConfigError) -> AccessList.Rule {
        let argument = directive.arguments[0]
        if argument.text == "all" { return AccessList.Rule(allows: allows, block: nil) }
        return AccessList.Rule(allows: allows, block: try block(argument, reader))
    }

    /// A server's settings over the stream's, for one `listen` (its `proxy_protocol` parameter),
    /// nil when nothing is configured.
    func configuration(
        over defaults: EdgeSettings, listenReadsProxyProtocol: Bool, returnValue: StreamTemplate? = nil, zones: [String: LimitConnConfiguration.Zone],
        _ reader: ConfigReader
    ) throws(ConfigError) -> EdgeConfiguration? {
        var edge = EdgeConfiguration()
        edge.readsProxyProtocol = listenReadsProxyProtocol
        edge.returnValue = returnValue
        edge.proxyProtocolTimeout = proxyProtocolTimeout ?? defaults.proxyProtocolTimeout ?? .seconds(30)
        edge.sendsProxyProtocol = proxyProtocol ?? defaults.proxyProtocol ?? false
        edge.realIPFrom = realIPFrom ?? defaults.realIPFrom ?? []
        edge.access = AccessList(access ?? defaults.access ?? [])
        edge.limitLogLevel = limitLogLevel ?? defaults.limitLogLevel ?? .error
        for (zone, limit) in limits ?? defaults.limits ?? [] {
            guard let defined = zones[zone.text] else {
                throw reader.error(zone, "unknown limit_conn_zone \"\(ConfigError.shown(zone.text))\" (define it with limit_conn_zone in \"stream\")")
            }
            edge.limits.append(LimitConnConfiguration(zone: defined, limit: limit))
        }
        return edge == EdgeConfiguration() ? nil : edge
    }
}

/// `limit_conn_zone KEY zone=NAME:SIZE;` in `stream {}`.
struct LimitConnZones {
    var zones: [String: LimitConnConfiguration.Zone] = [:]

    static let commands: [ConfigCommand<LimitConnZones>] = [
        ConfigCommand("limit_conn_zone", arguments: 2...2, repeats: true) { zones, directive, reader throws(ConfigError) in
            let keyArgument = directive.arguments[0]
            let key: LimitKey
            switch keyArgument.text {
            case "$binary_remote_addr": key = .binaryRemoteAddress
            case "$remote_addr": key = .remoteAddress
            default:
                throw reader.error(keyArgument, "limit_conn_zone key \"\(ConfigError.shown(keyArgument.text))\" is not supported (only $binary_remote_addr and $remote_addr)")
            }
            let argument = directive.arguments[1]
            let (name, value) = reader.keyValue(argument.text)
            let parts = value?.split(separator: ":", maxSplits: 1).map(String.init) ?? []
            guard name == "zone", parts.count == 2, !parts[0].isEmpty else {
                throw reader.error(argument, "invalid zone \"\(ConfigError.shown(argument.text))\" in \"limit_conn_zone\" (expected zone=NAME:SIZE)")
            }
            // nginx's smallest zone is 8 pages (32k).
            let size = try reader.size(argument, parts[1], name: "zone size", range: (32 * 1024)...(1 << 30))
            if zones.zones[parts[0]] != nil {
                throw reader.error(argument, "duplicate zone \"\(ConfigError.shown(parts[0]))\"")
            }
            zones.zones[parts[0]] = LimitConnConfiguration.Zone(name: parts[0], key: key, size: size)
        }
    ]
}

/// What a listener checks and sends before and beside proxying (``SessionEdge`` in the engine).
public struct EdgeConfiguration: Sendable, Equatable {
    /// `listen ... proxy_protocol`.
    public var readsProxyProtocol = false
    /// `proxy_protocol_timeout`, nginx's default 30s.
    public var proxyProtocolTimeout: Duration = .seconds(30)
    /// `proxy_protocol on`.
    public var sendsProxyProtocol = false
    public var realIPFrom: [CIDR] = []
    public var access = AccessList()
    public var limits: [LimitConnConfiguration] = []
    /// `limit_conn_log_level`, nginx's default error.
    public var limitLogLevel = LogLevel.error
    /// `return VALUE` (ReturnModule.swift).
    public var returnValue: StreamTemplate?

    public init() {}
}

/// `limit_conn ZONE N` with its zone's definition.
public struct LimitConnConfiguration: Sendable, Equatable {
    public struct Zone: Sendable, Equatable, Hashable {
        public var name: String
        public var key: LimitKey
        public var size: Int
    }

    public var zone: Zone
    public var limit: Int
}
