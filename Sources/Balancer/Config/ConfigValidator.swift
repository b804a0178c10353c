#if canImport(Glibc)
import Glibc
#endif
import MusterBase
import Registry

/// Turns the directive tree into a `BalancerConfiguration`, rejecting anything unsupported with
/// the position of the offending directive or argument.
struct ConfigValidator {
    let file: String

    /// Event loops beyond this are a typo, not a machine.
    static let maximumWorkerProcesses = 1024

    /// Server-level proxy settings; also accepted at `stream {}` level as defaults, as nginx does.
    private struct ProxySettings {
        var connectTimeout: Duration?
        var idleTimeout: Duration?
        var nextUpstream: Bool?
        var nextUpstreamTries: Int?
        var nextUpstreamTimeout: Duration?
        var tcpNoDelay: Bool?
        var halfClose: Bool?
    }

    private struct Listen {
        var host: String
        var port: Int
        var backlog: Int
        var reusePort: Bool
        var directive: ConfigDirective
    }

    // MARK: errors

    static func shown(_ text: some StringProtocol) -> String { ConfigError.shown(text) }

    private func error(_ directive: ConfigDirective, _ message: String) -> ConfigError {
        ConfigError(file: file, line: directive.line, column: directive.column, message: message)
    }

    private func error(_ argument: ConfigDirective.Argument, _ message: String) -> ConfigError {
        ConfigError(file: file, line: argument.line, column: argument.column, message: message)
    }

    private func unknown(_ directive: ConfigDirective, in context: String) -> ConfigError {
        if directive.name == "http" {
            return error(directive, "\"http\" blocks are not supported: this balancer proxies TCP only (use \"stream {}\")")
        }
        return error(directive, "unknown or unsupported directive \"\(ConfigError.shown(directive.name))\" in \(context)")
    }

    private func requireSimple(_ directive: ConfigDirective, arguments range: ClosedRange<Int>) throws(ConfigError) {
        if directive.block != nil {
            throw error(directive, "directive \"\(ConfigError.shown(directive.name))\" has no block; end it with \";\"")
        }
        if !range.contains(directive.arguments.count) {
            throw error(directive, "invalid number of arguments in \"\(ConfigError.shown(directive.name))\" directive")
        }
    }

    private func requireBlock(_ directive: ConfigDirective, arguments count: Int) throws(ConfigError) -> [ConfigDirective] {
        guard let block = directive.block else {
            throw error(directive, "directive \"\(ConfigError.shown(directive.name))\" needs a { } block")
        }
        if directive.arguments.count != count {
            throw error(directive, "invalid number of arguments in \"\(ConfigError.shown(directive.name))\" directive")
        }
        return block
    }

    private func duplicate(_ directive: ConfigDirective) -> ConfigError {
        error(directive, "\"\(ConfigError.shown(directive.name))\" directive is duplicate")
    }

    // MARK: values

    private func number(_ argument: ConfigDirective.Argument, _ text: String, name: String, minimum: Int, maximum: Int = 1_000_000_000) throws(ConfigError) -> Int {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              text.utf8.count <= 10, let value = Int(text), value >= minimum, value <= maximum
        else {
            throw error(argument, "invalid \(ConfigError.shown(name)) \"\(ConfigError.shown(text))\": expected a whole number from \(minimum) to \(maximum)")
        }
        return value
    }

    /// A config time, as nginx writes them: a bare number is seconds, and no fractions (`1500ms`,
    /// not `1.5s`), so a file means here what it means to nginx.
    static func parseDuration(_ text: String) throws(DurationSyntax.ParseError) -> Duration {
        try DurationSyntax.parse(text, bareNumber: .seconds, fractions: false)
    }

    private func duration(_ argument: ConfigDirective.Argument, _ text: String, name: String, allowZero: Bool = true) throws(ConfigError) -> Duration {
        let expected = "expected a time such as 500ms, 1s, 30s, 10m, 1h or 1m30s"
        let value: Duration
        do {
            value = try Self.parseDuration(text)
        } catch {
            throw self.error(argument, "invalid \(ConfigError.shown(name)) \"\(Self.shown(text))\": \(error.problem); \(expected)")
        }
        guard allowZero || value > .zero else {
            throw self.error(argument, "invalid \(ConfigError.shown(name)) \"\(Self.shown(text))\": \(expected) (greater than zero)")
        }
        return value
    }

    private func flag(_ directive: ConfigDirective) throws(ConfigError) -> Bool {
        try requireSimple(directive, arguments: 1...1)
        switch directive.arguments[0].text {
        case "on": return true
        case "off": return false
        default:
            throw error(directive.arguments[0], "invalid value \"\(ConfigError.shown(directive.arguments[0].text))\" in \"\(ConfigError.shown(directive.name))\" directive, it must be \"on\" or \"off\"")
        }
    }

    /// `host:port` / `[v6]:port` / `*:port` / `port`, by `Endpoint`'s one rule for the form; the
    /// problem is worded here as nginx words it, with the argument's position.
    private func address(_ argument: ConfigDirective.Argument, what: String, form: Endpoint.Form) throws(ConfigError) -> Endpoint {
        let text = argument.text
        if text.hasPrefix("unix:") {
            throw error(argument, "unix domain sockets are not supported in \(what) \"\(ConfigError.shown(text))\"")
        }
        do {
            return try Endpoint.parse(text, form)
        } catch {
            let shown = "\(what) \"\(ConfigError.shown(text))\""
            switch error.problem {
            case .missingBracket: throw self.error(argument, "invalid \(shown): missing \"]\" after the IPv6 address")
            case .missingPort: throw self.error(argument, "no port in \(shown)")
            case .unbracketedIPv6: throw self.error(argument, "invalid \(shown): write IPv6 addresses in brackets, e.g. [::1]:8000")
            case .invalidHost: throw self.error(argument, "invalid host in \(shown)")
            case .hostNotIPLiteral, .hostNotDialable: throw self.error(argument, "invalid host in \(shown): \(error.problem)")
            case .invalidPort: throw self.error(argument, "invalid port in \(shown)")
            }
        }
    }

    /// `key=value` split; nil value for a bare word.
    private func keyValue(_ text: String) -> (key: Substring, value: String?) {
        guard let eq = text.firstIndex(of: "=") else { return (Substring(text), nil) }
        return (text[..<eq], String(text[text.index(after: eq)...]))
    }

    // MARK: top level

    func validate(_ tree: [ConfigDirective]) throws(ConfigError) -> BalancerConfiguration {
        var configuration = BalancerConfiguration()
        var sawEvents = false
        var sawWorkerProcesses = false
        var streamDirective: ConfigDirective?
        for directive in tree {
            switch directive.name {
            case "events":
                if sawEvents { throw duplicate(directive) }
                sawEvents = true
                configuration.workerConnections = try events(directive)
            case "worker_processes":
                if sawWorkerProcesses { throw duplicate(directive) }
                sawWorkerProcesses = true
                try requireSimple(directive, arguments: 1...1)
                let argument = directive.arguments[0]
                if argument.text != "auto" {
                    guard argument.text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                          let count = Int(argument.text), (1...Self.maximumWorkerProcesses).contains(count) else {
                        throw error(argument, "invalid worker_processes \"\(ConfigError.shown(argument.text))\": expected \"auto\" or a whole number from 1 to \(Self.maximumWorkerProcesses)")
                    }
                    configuration.workerProcesses = count
                }
            case "stream":
                if streamDirective != nil { throw duplicate(directive) }
                streamDirective = directive
                try stream(directive, into: &configuration)
            default:
                throw unknown(directive, in: "the main context (only \"worker_processes\", \"events\" and \"stream\" are supported)")
            }
        }
        guard streamDirective != nil else {
            throw ConfigError(file: file, line: 1, column: 1, message: "no \"stream\" block: nothing to proxy")
        }
        return configuration
    }

    private func events(_ directive: ConfigDirective) throws(ConfigError) -> Int? {
        var workerConnections: Int?
        for child in try requireBlock(directive, arguments: 0) {
            switch child.name {
            case "worker_connections":
                if workerConnections != nil { throw duplicate(child) }
                try requireSimple(child, arguments: 1...1)
                workerConnections = try number(child.arguments[0], child.arguments[0].text, name: "worker_connections", minimum: 1)
            default:
                throw unknown(child, in: "\"events\" (only \"worker_connections\" is supported)")
            }
        }
        return workerConnections
    }

    // MARK: stream

    private func stream(_ directive: ConfigDirective, into configuration: inout BalancerConfiguration) throws(ConfigError) {
        var defaults = ProxySettings()
        var upstreamDirectives: [String: ConfigDirective] = [:]
        var serverBlocks: [ConfigDirective] = []
        var adminDirective: ConfigDirective?
        for child in try requireBlock(directive, arguments: 0) {
            switch child.name {
            case "upstream":
                let upstream = try self.upstream(child)
                if let previous = upstreamDirectives[upstream.name] {
                    throw error(child, "duplicate upstream \"\(ConfigError.shown(upstream.name))\" (first defined at line \(previous.line))")
                }
                upstreamDirectives[upstream.name] = child
                configuration.upstreams.append(upstream)
                // Each `server` line made exactly one entry of `servers`, in order: their positions
                // name the line when its host name does not resolve (ServerNameResolution.swift).
                configuration.serverPositions[upstream.name] = (child.block ?? []).filter { $0.name == "server" }.map {
                    ConfigError(file: file, line: $0.line, column: $0.arguments.first?.column ?? $0.column, message: "")
                }
            case "server":
                _ = try requireBlock(child, arguments: 0)
                serverBlocks.append(child)
            case "admin":
                if adminDirective != nil { throw duplicate(child) }
                adminDirective = child
                try requireSimple(child, arguments: 1...6)
                let endpoint = try address(
                    child.arguments[0], what: "admin address",
                    form: .admin)
                configuration.admin = endpoint.description
                configuration.adminOrigin = "admin, \(file):\(child.line):\(child.column)"
                configuration.adminLimits = try adminLimits(child.arguments.dropFirst())
            default:
                if try proxySetting(child, into: &defaults) { continue }
                throw unknown(child, in: "\"stream\"")
            }
        }
        guard !serverBlocks.isEmpty else {
            throw error(directive, "\"stream\" has no \"server\" block: nothing would listen")
        }
        var listeners: [(host: String, port: Int, directive: ConfigDirective)] = []
        for block in serverBlocks {
            let servers = try server(block, defaults: defaults, upstreams: upstreamDirectives)
            for (server, listenDirective) in servers {
                if server.listenPort != 0,
                   let clash = listeners.first(where: { $0.port == server.listenPort && Self.overlaps($0.host, server.listenHost) }) {
                    throw error(listenDirective, "duplicate listen port \(server.listenPort) (already used by \"listen\" at line \(clash.directive.line))")
                }
                listeners.append((server.listenHost, server.listenPort, listenDirective))
                let key = server.listenAddress.description
                if configuration.listenOrigins[key] == nil {
                    configuration.listenOrigins[key] = "listen, \(file):\(listenDirective.line):\(listenDirective.column)"
                }
                configuration.servers.append(server)
            }
        }
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

    /// `admin ADDR [max_connections=N] [request_timeout=T] [keepalive_timeout=T] [max_request_line=SIZE] [max_header_size=SIZE]`.
    private func adminLimits(_ arguments: ArraySlice<ConfigDirective.Argument>) throws(ConfigError) -> AdminLimits {
        var limits = AdminLimits()
        var seen: Set<Substring> = []
        for argument in arguments {
            let (key, value) = keyValue(argument.text)
            guard let value else {
                throw error(argument, "unsupported parameter \"\(ConfigError.shown(argument.text))\" in \"admin\" (max_connections=N, request_timeout=T, keepalive_timeout=T, max_request_line=SIZE, max_header_size=SIZE)\(missingSemicolonHint(argument))")
            }
            if !seen.insert(key).inserted { throw error(argument, "duplicate \"\(ConfigError.shown(key))\" parameter") }
            switch key {
            case "max_connections": limits.maxConnections = try number(argument, value, name: "max_connections", minimum: 1, maximum: 1 << 20)
            case "request_timeout": limits.requestTimeout = try duration(argument, value, name: "request_timeout", allowZero: false)
            case "keepalive_timeout": limits.keepaliveTimeout = try duration(argument, value, name: "keepalive_timeout", allowZero: false)
            case "max_request_line": limits.maxRequestLine = try size(argument, value, name: "max_request_line")
            case "max_header_size": limits.maxHeaderSize = try size(argument, value, name: "max_header_size")
            default:
                throw error(argument, "unsupported parameter \"\(ConfigError.shown(key))\" in \"admin\" (max_connections=N, request_timeout=T, keepalive_timeout=T, max_request_line=SIZE, max_header_size=SIZE)")
            }
        }
        return limits
    }

    /// nginx sizes: `512`, `8k`, `1m` (bytes), from 256 bytes to 1 MiB.
    private func size(_ argument: ConfigDirective.Argument, _ text: String, name: String) throws(ConfigError) -> Int {
        var digits = Substring(text)
        var scale = 1
        if let last = digits.last, "kKmM".contains(last) {
            scale = (last == "k" || last == "K") ? 1024 : 1024 * 1024
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.utf8.count <= 7, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let value = Int(digits), (256...(1024 * 1024)).contains(value * scale)
        else {
            throw error(argument, "invalid \(name) \"\(ConfigError.shown(text))\": expected a size such as 4k or 8192, from 256 bytes to 1m")
        }
        return value * scale
    }

    /// Handles the `proxy_*` / `tcp_nodelay` directives; false if `directive` is not one of them.
    private func proxySetting(_ directive: ConfigDirective, into settings: inout ProxySettings) throws(ConfigError) -> Bool {
        switch directive.name {
        case "proxy_connect_timeout":
            if settings.connectTimeout != nil { throw duplicate(directive) }
            try requireSimple(directive, arguments: 1...1)
            settings.connectTimeout = try duration(directive.arguments[0], directive.arguments[0].text, name: "proxy_connect_timeout", allowZero: false)
        case "proxy_timeout":
            if settings.idleTimeout != nil { throw duplicate(directive) }
            try requireSimple(directive, arguments: 1...1)
            settings.idleTimeout = try duration(directive.arguments[0], directive.arguments[0].text, name: "proxy_timeout", allowZero: false)
        case "proxy_next_upstream":
            if settings.nextUpstream != nil { throw duplicate(directive) }
            settings.nextUpstream = try flag(directive)
        case "proxy_next_upstream_tries":
            if settings.nextUpstreamTries != nil { throw duplicate(directive) }
            try requireSimple(directive, arguments: 1...1)
            settings.nextUpstreamTries = try number(directive.arguments[0], directive.arguments[0].text, name: "proxy_next_upstream_tries", minimum: 0)
        case "proxy_next_upstream_timeout":
            if settings.nextUpstreamTimeout != nil { throw duplicate(directive) }
            try requireSimple(directive, arguments: 1...1)
            settings.nextUpstreamTimeout = try duration(directive.arguments[0], directive.arguments[0].text, name: "proxy_next_upstream_timeout")
        case "tcp_nodelay":
            if settings.tcpNoDelay != nil { throw duplicate(directive) }
            settings.tcpNoDelay = try flag(directive)
        case "proxy_half_close":
            if settings.halfClose != nil { throw duplicate(directive) }
            settings.halfClose = try flag(directive)
        default:
            return false
        }
        return true
    }

    // MARK: server

    private func server(_ directive: ConfigDirective, defaults: ProxySettings, upstreams: [String: ConfigDirective]) throws(ConfigError) -> [(ListenerConfiguration, ConfigDirective)] {
        var settings = ProxySettings()
        var listens: [Listen] = []
        var proxyPass: ConfigDirective?
        var acceptRate: AcceptRate?
        for child in directive.block ?? [] {
            switch child.name {
            case "listen":
                listens.append(try listen(child))
            case "accept_rate":
                if acceptRate != nil { throw duplicate(child) }
                acceptRate = try self.acceptRate(child)
            case "proxy_pass":
                if proxyPass != nil { throw duplicate(child) }
                try requireSimple(child, arguments: 1...1)
                let name = child.arguments[0]
                if upstreams[name.text] == nil {
                    if name.text.contains(":") {
                        throw error(name, "proxy_pass to an address (\"\(ConfigError.shown(name.text))\") is not supported; define an upstream block and name it here")
                    }
                    throw error(name, "unknown upstream \"\(ConfigError.shown(name.text))\" in \"proxy_pass\"")
                }
                proxyPass = child
            default:
                if try proxySetting(child, into: &settings) { continue }
                throw unknown(child, in: "\"server\"")
            }
        }
        guard !listens.isEmpty else {
            throw error(directive, "no \"listen\" is defined for this \"server\" block")
        }
        guard let proxyPass else {
            throw error(directive, "no \"proxy_pass\" is defined for this \"server\" block")
        }
        return listens.map { listen in
            let server = ListenerConfiguration(
                listenHost: listen.host,
                listenPort: listen.port,
                backlog: listen.backlog,
                reusePort: listen.reusePort,
                proxyPass: proxyPass.arguments[0].text,
                connectTimeout: settings.connectTimeout ?? defaults.connectTimeout ?? .seconds(60),
                idleTimeout: settings.idleTimeout ?? defaults.idleTimeout ?? .seconds(600),
                nextUpstream: settings.nextUpstream ?? defaults.nextUpstream ?? true,
                nextUpstreamTries: settings.nextUpstreamTries ?? defaults.nextUpstreamTries ?? 0,
                nextUpstreamTimeout: settings.nextUpstreamTimeout ?? defaults.nextUpstreamTimeout ?? .zero,
                tcpNoDelay: settings.tcpNoDelay ?? defaults.tcpNoDelay ?? true,
                halfClose: settings.halfClose ?? defaults.halfClose ?? false,
                acceptRate: acceptRate
            )
            return (server, listen.directive)
        }
    }

    /// `accept_rate N [burst=M];`
    private func acceptRate(_ directive: ConfigDirective) throws(ConfigError) -> AcceptRate {
        try requireSimple(directive, arguments: 1...2)
        let rateArgument = directive.arguments[0]
        if rateArgument.text.contains("=") {
            throw error(rateArgument, "\"accept_rate\" takes the rate first, e.g. accept_rate 1000 burst=100; (new clients per second per listen)")
        }
        var limit = AcceptRate(
            rate: try number(rateArgument, rateArgument.text, name: "accept_rate", minimum: 1, maximum: AcceptRate.maximumRate))
        if directive.arguments.count == 2 {
            let argument = directive.arguments[1]
            let (key, value) = keyValue(argument.text)
            guard key == "burst", let value else {
                throw error(argument, "invalid parameter \"\(ConfigError.shown(argument.text))\" in \"accept_rate\" (only burst=N)\(missingSemicolonHint(argument))")
            }
            limit.burst = try number(argument, value, name: "burst", minimum: 0, maximum: AcceptRate.maximumBurst)
        }
        return limit
    }

    private func listen(_ directive: ConfigDirective) throws(ConfigError) -> Listen {
        try requireSimple(directive, arguments: 1...8)
        let endpoint = try address(
            directive.arguments[0], what: "listen", form: .listen)
        let (host, port) = (endpoint.host, endpoint.port)
        var backlog: Int?
        var reusePort = false
        for argument in directive.arguments.dropFirst() {
            let (key, value) = keyValue(argument.text)
            if argument.text == "reuseport" {
                if reusePort { throw error(argument, "duplicate \"reuseport\" parameter") }
                reusePort = true
            } else if key == "backlog", let value {
                if backlog != nil { throw error(argument, "duplicate \"backlog\" parameter") }
                backlog = try number(argument, value, name: "backlog", minimum: 1, maximum: 1 << 20)
            } else {
                throw error(argument, "unsupported parameter \"\(ConfigError.shown(argument.text))\" in \"listen\" (only backlog=N and reuseport are supported)\(missingSemicolonHint(argument))")
            }
        }
        return Listen(host: host, port: port, backlog: backlog ?? ListenerConfiguration.defaultBacklog, reusePort: reusePort,
                      directive: directive)
    }

    private static let knownDirectives = Set([
        "listen", "proxy_pass", "proxy_connect_timeout", "proxy_timeout", "proxy_next_upstream",
        "proxy_next_upstream_tries", "proxy_next_upstream_timeout", "tcp_nodelay", "proxy_half_close", "server", "upstream",
        "zookeeper", "admin", "accept_rate",
    ] + BalancingMethod.algorithms.compactMap { $0.directive })

    /// A directive name where a parameter was expected usually means the line above lacks its `;`.
    private func missingSemicolonHint(_ argument: ConfigDirective.Argument) -> String {
        Self.knownDirectives.contains(argument.text) ? "; is a \";\" missing before it?" : ""
    }

    // MARK: upstream

    private func upstream(_ directive: ConfigDirective) throws(ConfigError) -> UpstreamConfiguration {
        let children = try requireBlock(directive, arguments: 1)
        var upstream = UpstreamConfiguration(name: directive.arguments[0].text)
        var methodDirective: ConfigDirective?
        var zookeeperDirective: ConfigDirective?
        var backupArguments: [ConfigDirective.Argument] = []
        var slowStartArguments: [ConfigDirective.Argument] = []
        for child in children {
            switch child.name {
            case "server":
                let (server, backupArgument, slowStartArgument) = try upstreamServer(child)
                if let slowStartArgument { slowStartArguments.append(slowStartArgument) }
                // The same address twice is two peers, as in nginx (their ids carry an ordinal).
                if let backupArgument { backupArguments.append(backupArgument) }
                upstream.servers.append(server)
            case let name where BalancingMethod.algorithm(forDirective: name) != nil:
                if let methodDirective {
                    throw error(child, "load balancing method redefined (\"\(ConfigError.shown(methodDirective.name))\" at line \(methodDirective.line))")
                }
                methodDirective = child
                upstream.method = try method(child)
            case "zookeeper":
                if zookeeperDirective != nil { throw duplicate(child) }
                zookeeperDirective = child
                let (source, slowStartArgument) = try zookeeper(child)
                upstream.zookeeper = source
                if let slowStartArgument { slowStartArguments.append(slowStartArgument) }
            default:
                throw unknown(child, in: "\"upstream\"")
            }
        }
        // The method says what it takes: nginx refuses backup with hash and random, and nginx
        // Plus ignores slow_start for them (`check` says so).
        if let methodDirective {
            if !upstream.method.algorithm.supportsBackup, let first = backupArguments.first {
                throw error(first, "balancing method \"\(ConfigError.shown(methodDirective.name))\" does not support the \"backup\" parameter")
            }
            if !upstream.method.algorithm.rampsSlowStart {
                for argument in slowStartArguments {
                    upstream.warnings.append(error(argument, "\"slow_start\" is ignored by balancing method \"\(methodDirective.name)\" (only round robin and least_conn ramp weights)"))
                }
            }
        }
        if upstream.servers.isEmpty, upstream.zookeeper == nil {
            throw error(directive, "no servers are inside upstream \"\(ConfigError.shown(upstream.name))\" (add \"server\" lines or a \"zookeeper\" directive)")
        }
        if upstream.zookeeper == nil, !upstream.servers.isEmpty, upstream.servers.allSatisfy(\.backup) {
            throw error(directive, "upstream \"\(ConfigError.shown(upstream.name))\" has only backup servers")
        }
        return upstream
    }

    private func upstreamServer(_ directive: ConfigDirective) throws(ConfigError) -> (StaticServer, ConfigDirective.Argument?, ConfigDirective.Argument?) {
        try requireSimple(directive, arguments: 1...16)
        let endpoint = try address(directive.arguments[0], what: "upstream server", form: .dial)
        var server = StaticServer(host: endpoint.host, port: endpoint.port)
        var seen: Set<Substring> = []
        var backupArgument: ConfigDirective.Argument?
        var slowStartArgument: ConfigDirective.Argument?
        for argument in directive.arguments.dropFirst() {
            let (key, value) = keyValue(argument.text)
            if !seen.insert(key).inserted {
                throw error(argument, "duplicate parameter \"\(ConfigError.shown(key))\"")
            }
            switch (key, value) {
            case ("weight", let value?):
                server.weight = try number(argument, value, name: "weight", minimum: 1, maximum: MemberLimits.weights.upperBound)
            case ("max_fails", let value?):
                server.maxFails = try number(argument, value, name: "max_fails", minimum: 0)
            case ("fail_timeout", let value?):
                server.failTimeout = try duration(argument, value, name: "fail_timeout")
            case ("max_conns", let value?):
                server.maxConns = try number(argument, value, name: "max_conns", minimum: 0)
            case ("backup", nil):
                server.backup = true
                backupArgument = argument
            case ("down", nil):
                server.down = true
            case ("slow_start", let value?):
                server.slowStart = try duration(argument, value, name: "slow_start")
                if server.slowStart > .zero { slowStartArgument = argument }
            default:
                throw error(argument, "invalid parameter \"\(ConfigError.shown(argument.text))\" in upstream \"server\" (supported: weight=, max_fails=, fail_timeout=, max_conns=, slow_start=, backup, down)\(missingSemicolonHint(argument))")
            }
        }
        return (server, backupArgument, slowStartArgument)
    }

    /// The algorithm named by `directive` parses its own arguments; errors point at the argument.
    private func method(_ directive: ConfigDirective) throws(ConfigError) -> BalancingMethod {
        guard let algorithm = BalancingMethod.algorithm(forDirective: directive.name) else {
            throw unknown(directive, in: "\"upstream\"")
        }
        try requireSimple(directive, arguments: algorithm.argumentCount)
        switch algorithm.method(directive.arguments.map(\.text)) {
        case .success(let method):
            return method
        case .failure(let problem):
            throw self.error(directive.arguments[problem.argument], problem.message)
        }
    }

    private func zookeeper(_ directive: ConfigDirective) throws(ConfigError) -> (ZooKeeperSource, ConfigDirective.Argument?) {
        try requireSimple(directive, arguments: 2...15)
        var slowStartArgument: ConfigDirective.Argument?
        var flapHoldArgument: ConfigDirective.Argument?
        let hosts = directive.arguments[0]
        try validateConnectString(hosts)
        var path: String?
        var source = ZooKeeperSource(connectString: hosts.text, path: "")
        var seen: Set<Substring> = []
        for argument in directive.arguments.dropFirst() {
            let (key, value) = keyValue(argument.text)
            if !seen.insert(key).inserted {
                throw error(argument, "duplicate parameter \"\(ConfigError.shown(key))\"")
            }
            switch (key, value) {
            case ("path", let value?):
                if let problem = ServicePath.problem(with: value) {
                    throw error(argument, "invalid path \"\(ConfigError.shown(value))\": \(problem)")
                }
                path = value
            case ("auth_file", let value?):
                guard !value.isEmpty else { throw error(argument, "empty auth_file") }
                source.authFile = value
            case ("session_timeout", let value?):
                source.sessionTimeout = try duration(argument, value, name: "session_timeout", allowZero: false)
            case ("max_fails", let value?):
                source.maxFails = try number(argument, value, name: "max_fails", minimum: 0)
            case ("fail_timeout", let value?):
                source.failTimeout = try duration(argument, value, name: "fail_timeout")
            case ("panic_threshold", let value?):
                let digits = value.hasSuffix("%") ? String(value.dropLast()) : value
                source.panicThreshold = try number(argument, digits, name: "panic_threshold", minimum: 0, maximum: 100)
            case ("suspect_timeout", let value?):
                source.suspectTimeout = try duration(argument, value, name: "suspect_timeout", allowZero: false)
            case ("slow_start", let value?):
                source.slowStart = try duration(argument, value, name: "slow_start")
                if source.slowStart > .zero { slowStartArgument = argument }
            case ("flap_limit", let value?):
                source.flapDamping.limit = try number(argument, value, name: "flap_limit", minimum: 0, maximum: 1000)
            case ("flap_window", let value?):
                source.flapDamping.window = try duration(argument, value, name: "flap_window", allowZero: false)
            case ("flap_hold", let value?):
                source.flapDamping.hold = try duration(argument, value, name: "flap_hold", allowZero: false)
                flapHoldArgument = argument
            case ("flap_max_hold", let value?):
                source.flapDamping.maxHold = try duration(argument, value, name: "flap_max_hold", allowZero: false)
                flapHoldArgument = flapHoldArgument ?? argument
            default:
                throw error(argument, "invalid parameter \"\(ConfigError.shown(argument.text))\" in \"zookeeper\" (supported: path=, auth_file=, session_timeout=, max_fails=, fail_timeout=, panic_threshold=, suspect_timeout=, slow_start=, flap_limit=, flap_window=, flap_hold=, flap_max_hold=)\(missingSemicolonHint(argument))")
            }
        }
        if let flapHoldArgument, source.flapDamping.maxHold < source.flapDamping.hold {
            throw error(flapHoldArgument, "flap_max_hold (\(source.flapDamping.maxHold)) is shorter than flap_hold (\(source.flapDamping.hold)); the hold-down grows from flap_hold up to flap_max_hold")
        }
        guard let path else {
            throw error(directive, "\"zookeeper\" needs path=/service/path (members are its /members children)")
        }
        source.path = path
        return (source, slowStartArgument)
    }

    /// `h1:2181,h2:2181/chroot`, by the one rule the ZooKeeper client applies when it connects.
    private func validateConnectString(_ argument: ConfigDirective.Argument) throws(ConfigError) {
        if argument.text.contains("=") {
            throw error(argument, "\"zookeeper\" takes the hosts first, e.g. zookeeper 127.0.0.1:2181 path=/muster/services/chat")
        }
        do {
            _ = try ZooKeeperConfiguration(connectString: argument.text).parsed()
        } catch {
            throw self.error(argument, error.description)
        }
    }
}
