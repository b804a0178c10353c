#if canImport(Glibc)
import Glibc
#endif
import MusterBase

/// `stream { }` (nginx's stream core module): upstreams, servers and the defaults they inherit.
struct StreamContext {
    var configuration: BalancerConfiguration
    /// The proxy settings given at `stream {}` level: defaults for every server.
    var proxy = ProxySettings()
    /// `error_log` at `stream {}` level: where the sessions' messages go, unless a server says.
    var errorLogs: [ErrorLogConfiguration] = []
    var edge = EdgeSettings()
    var limitConnZones = LimitConnZones()
    var accessLog = AccessLogSettings()
    var upstreamDirectives: [String: ConfigDirective] = [:]
    /// Read after the whole block, so a `server` may name an upstream defined below it.
    var serverBlocks: [ConfigDirective] = []

    static let commands = ConfigCommandTable<StreamContext>(.stream, [
        ConfigCommand("upstream", block: true, repeats: true) { stream, directive, reader throws(ConfigError) in
            try stream.upstream(directive, reader)
        },
        ConfigCommand("server", arguments: 0...0, block: true, repeats: true) { stream, directive, _ in
            stream.serverBlocks.append(directive)
        },
    ] + AdminModule.commands.within(\.configuration) + ProxySettings.commands.within(\.proxy)
        + ErrorLogModule.commands.within(\.errorLogs) + EdgeSettings.commands.within(\.edge)
        + LimitConnZones.commands.within(\.limitConnZones) + AccessLogSettings.streamCommands.within(\.accessLog))

    private mutating func upstream(_ directive: ConfigDirective, _ reader: ConfigReader) throws(ConfigError) {
        let upstream = try UpstreamContext.read(directive, reader)
        if let previous = upstreamDirectives[upstream.name] {
            throw reader.error(directive, "duplicate upstream \"\(ConfigError.shown(upstream.name))\" (first defined at line \(previous.line))")
        }
        upstreamDirectives[upstream.name] = directive
        configuration.upstreams.append(upstream)
        // Each `server` line made exactly one entry of `servers`, in order: their positions
        // name the line when its host name does not resolve (ServerNameResolution.swift).
        configuration.serverPositions[upstream.name] = (directive.block ?? []).filter { $0.name == "server" }.map {
            ConfigError(file: $0.file, line: $0.line, column: $0.arguments.first?.column ?? $0.column, message: "")
        }
    }

    /// Reads the server blocks, now that every upstream is known, into listeners.
    func finish(_ directive: ConfigDirective, _ reader: ConfigReader) throws(ConfigError) -> BalancerConfiguration {
        guard !serverBlocks.isEmpty else {
            throw reader.error(directive, "\"stream\" has no \"server\" block: nothing would listen")
        }
        var configuration = self.configuration
        var bound: [(host: String, port: Int, directive: ConfigDirective)] = []
        for block in serverBlocks {
            var server = ServerContext(upstreams: upstreamDirectives, logFormats: accessLog.formats)
            try reader.read(block.block ?? [], into: &server, ServerContext.commands)
            if let implicit = server.implicitUpstream, let proxyPass = server.proxyPass,
               configuration.upstream(named: implicit.name) == nil {
                configuration.upstreams.append(implicit)
                let address = proxyPass.arguments[0]
                configuration.serverPositions[implicit.name] = [
                    ConfigError(file: address.file, line: address.line, column: address.column, message: ""),
                ]
            }
            if server.returns.template != nil, configuration.upstream(named: ReturnSetting.upstreamName) == nil {
                configuration.upstreams.append(UpstreamConfiguration(name: ReturnSetting.upstreamName, servers: []))
            }
            for (listener, listen) in try server.listeners(block, defaults: self, reader) {
                if listener.listenPort != 0,
                   let clash = bound.first(where: { $0.port == listener.listenPort && Self.overlaps($0.host, listener.listenHost) }) {
                    throw reader.error(listen, "duplicate listen port \(listener.listenPort) (already used by \"listen\" at line \(clash.directive.line))")
                }
                bound.append((listener.listenHost, listener.listenPort, listen))
                let key = listener.listenAddress.description
                if configuration.listenOrigins[key] == nil {
                    configuration.listenOrigins[key] = "listen, \(listen.file):\(listen.line):\(listen.column)"
                }
                configuration.listeners.append(listener)
            }
        }
        return configuration
    }

    /// Whether two bind addresses (IP literals) would take the same port: equal addresses in any
    /// spelling (`::1`, `0:0::1`), or a wildcard beside anything.
    static func overlaps(_ a: String, _ b: String) -> Bool {
        let (x, y) = (binary(a), binary(b))
        if x.allSatisfy({ $0 == 0 }) || y.allSatisfy({ $0 == 0 }) { return true }
        return x == y
    }

    /// The address's bytes (4 or 16), or its text's bytes if it is not a literal.
    private static func binary(_ host: String) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, host, &buffer) == 1 { return Array(buffer[0..<4]) }
        if inet_pton(AF_INET6, host, &buffer) == 1 { return buffer }
        return Array(host.utf8) + [1]
    }
}

/// One `server { }` block of `stream {}`: its listens and what each module read for it.
struct ServerContext {
    /// The upstreams of the `stream {}` block, by name, for `proxy_pass`.
    let upstreams: [String: ConfigDirective]
    var proxy = ProxySettings()
    var errorLogs: [ErrorLogConfiguration] = []
    var edge = EdgeSettings()
    var accessLog = AccessLogSettings()
    var listens: [Listen] = []
    var proxyPass: ConfigDirective?
    /// `proxy_pass HOST:PORT`: the one-member upstream it makes.
    var implicitUpstream: UpstreamConfiguration?
    var acceptRate: AcceptRate?
    var returns = ReturnSetting()

    init(upstreams: [String: ConfigDirective], logFormats: [LogFormat]) {
        self.upstreams = upstreams
        self.accessLog.formats = logFormats
    }

    static let commands = ConfigCommandTable<ServerContext>(.server, [
        ConfigCommand("listen", arguments: 1...8, repeats: true) { server, directive, reader throws(ConfigError) in
            server.listens.append(try Listen(directive, reader))
        },
        ConfigCommand("accept_rate", arguments: 1...2) { server, directive, reader throws(ConfigError) in
            server.acceptRate = try acceptRate(directive, reader)
        },
        ConfigCommand("proxy_pass") { server, directive, reader throws(ConfigError) in
            let name = directive.arguments[0]
            if server.upstreams[name.text] == nil {
                // nginx takes variables here (`proxy_pass $upstream;`, `host:$port`); Muster picks
                // from a group known when the config is read, so it says that rather than "unknown".
                guard !name.text.contains("$") else {
                    throw reader.error(name, "variables in \"proxy_pass\" are not supported (\"\(ConfigError.shown(name.text))\"): name an upstream or HOST:PORT")
                }
                guard name.text.contains(":") else {
                    throw reader.error(name, "unknown upstream \"\(ConfigError.shown(name.text))\" in \"proxy_pass\"")
                }
                // nginx's implicit upstream: one member, named by the address as written, shared
                // by every server that passes to the same text; a host name is resolved as a
                // `server` line's is.
                let endpoint = try reader.address(name, what: "proxy_pass", form: .dial)
                server.implicitUpstream = UpstreamConfiguration(
                    name: name.text, servers: [StaticServer(host: endpoint.host, port: endpoint.port)])
            }
            server.proxyPass = directive
        },
    ] + ProxySettings.commands.within(\.proxy) + ErrorLogModule.commands.within(\.errorLogs)
        + EdgeSettings.commands.within(\.edge) + AccessLogSettings.serverCommands.within(\.accessLog)
        + ReturnSetting.commands.within(\.returns))

    /// One listener per `listen`, with the block's settings over the `stream {}` defaults.
    func listeners(_ block: ConfigDirective, defaults: StreamContext, _ reader: ConfigReader) throws(ConfigError) -> [(ListenerConfiguration, ConfigDirective)] {
        guard !listens.isEmpty else {
            throw reader.error(block, "no \"listen\" is defined for this \"server\" block")
        }
        if let proxyPass, let returned = returns.directive {
            throw reader.error(proxyPass, "\"proxy_pass\" and \"return\" (line \(returned.line)) are in one \"server\" block: a server either proxies or returns")
        }
        guard let upstream = proxyPass?.arguments[0].text ?? returns.template.map({ _ in ReturnSetting.upstreamName }) else {
            throw reader.error(block, "no \"proxy_pass\" or \"return\" is defined for this \"server\" block")
        }
        return try listens.map { listen throws(ConfigError) in
            var listener = ListenerConfiguration(
                listenHost: listen.host,
                listenPort: listen.port,
                backlog: listen.backlog,
                reusePort: listen.reusePort,
                proxyPass: upstream,
                acceptRate: acceptRate
            )
            proxy.apply(over: defaults.proxy, to: &listener)
            listener.errorLogs = errorLogs.isEmpty ? defaults.errorLogs : errorLogs
            listener.accessLogs = accessLog.inherited(from: defaults.accessLog)
            listener.edge = try edge.configuration(
                over: defaults.edge, listenReadsProxyProtocol: listen.proxyProtocol, returnValue: returns.template,
                zones: defaults.limitConnZones.zones, reader)
            return (listener, listen.directive)
        }
    }

    /// `accept_rate N [burst=M];`
    private static func acceptRate(_ directive: ConfigDirective, _ reader: ConfigReader) throws(ConfigError) -> AcceptRate {
        let rateArgument = directive.arguments[0]
        if rateArgument.text.contains("=") {
            throw reader.error(rateArgument, "\"accept_rate\" takes the rate first, e.g. accept_rate 1000 burst=100; (new clients per second per listen)")
        }
        var limit = AcceptRate(
            rate: try reader.number(rateArgument, rateArgument.text, name: "accept_rate", minimum: 1, maximum: AcceptRate.maximumRate))
        if directive.arguments.count == 2 {
            let argument = directive.arguments[1]
            let (key, value) = reader.keyValue(argument.text)
            guard key == "burst", let value else {
                throw reader.error(argument, "invalid parameter \"\(ConfigError.shown(argument.text))\" in \"accept_rate\" (only burst=N)\(reader.missingSemicolonHint(argument))")
            }
            limit.burst = try reader.number(argument, value, name: "burst", minimum: 0, maximum: AcceptRate.maximumBurst)
        }
        return limit
    }
}

/// `listen ADDRESS [backlog=N] [reuseport] [proxy_protocol];`
struct Listen {
    var host: String
    var port: Int
    var backlog: Int
    var reusePort: Bool
    var proxyProtocol = false
    var directive: ConfigDirective

    init(_ directive: ConfigDirective, _ reader: ConfigReader) throws(ConfigError) {
        let endpoint = try reader.address(directive.arguments[0], what: "listen", form: .listen)
        var backlog: Int?
        var reusePort = false
        for argument in directive.arguments.dropFirst() {
            let (key, value) = reader.keyValue(argument.text)
            if argument.text == "proxy_protocol" {
                proxyProtocol = true
            } else if argument.text == "reuseport" {
                if reusePort { throw reader.error(argument, "duplicate \"reuseport\" parameter") }
                reusePort = true
            } else if key == "backlog", let value {
                if backlog != nil { throw reader.error(argument, "duplicate \"backlog\" parameter") }
                backlog = try reader.number(argument, value, name: "backlog", minimum: 1, maximum: 1 << 20)
            } else {
                throw reader.error(argument, "unsupported parameter \"\(ConfigError.shown(argument.text))\" in \"listen\" (only backlog=N, reuseport and proxy_protocol are supported)\(reader.missingSemicolonHint(argument))")
            }
        }
        self.host = endpoint.host
        self.port = endpoint.port
        self.backlog = backlog ?? ListenerConfiguration.defaultBacklog
        self.reusePort = reusePort
        self.directive = directive
    }
}
