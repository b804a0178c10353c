import MusterBase

/// `upstream NAME { }` (nginx's stream upstream module and its balancing methods).
struct UpstreamContext {
    var upstream: UpstreamConfiguration
    var methodDirective: ConfigDirective?
    var backupArguments: [ConfigDirective.Argument] = []
    var slowStartArguments: [ConfigDirective.Argument] = []

    static let commands = ConfigCommandTable<UpstreamContext>(.upstream, [
        ConfigCommand("server", arguments: 1...16, repeats: true) { upstream, directive, reader throws(ConfigError) in
            try upstream.server(directive, reader)
        },
        ConfigCommand("zookeeper", arguments: 2...15) { upstream, directive, reader throws(ConfigError) in
            let (source, slowStartArgument) = try ZooKeeperModule.source(directive, reader)
            upstream.upstream.zookeeper = source
            if let slowStartArgument { upstream.slowStartArguments.append(slowStartArgument) }
        },
        // The members' state is already shared by every worker (one pool per group, under its
        // lock), which is what nginx's zone is for: read and checked, nothing to allocate.
        ConfigCommand("zone", arguments: 1...2) { _, directive, reader throws(ConfigError) in
            if directive.arguments.count == 2 {
                _ = try reader.size(directive.arguments[1], directive.arguments[1].text, name: "zone size", range: 1...(1 << 40))
            }
        },
    ] + BalancingMethod.algorithms.compactMap { algorithm in
        algorithm.directive.map { name in
            // Each method has its own name; choosing two is nginx's "redefined", not "duplicate".
            ConfigCommand(name, arguments: algorithm.argumentCount, repeats: true, text: algorithm.textArguments) { upstream, directive, reader throws(ConfigError) in
                try upstream.method(directive, algorithm, reader)
            }
        }
    })

    /// Reads one `upstream` block.
    static func read(_ directive: ConfigDirective, _ reader: ConfigReader) throws(ConfigError) -> UpstreamConfiguration {
        var context = UpstreamContext(upstream: UpstreamConfiguration(name: directive.arguments[0].text))
        try reader.read(directive.block ?? [], into: &context, commands)
        return try context.finish(directive, reader)
    }

    private func finish(_ directive: ConfigDirective, _ reader: ConfigReader) throws(ConfigError) -> UpstreamConfiguration {
        var upstream = self.upstream
        // The method says what it takes: nginx refuses backup with hash and random, and nginx
        // Plus ignores slow_start for them (`check` says so).
        if let methodDirective {
            if !upstream.method.algorithm.supportsBackup, let first = backupArguments.first {
                throw reader.error(first, "balancing method \"\(ConfigError.shown(methodDirective.name))\" does not support the \"backup\" parameter")
            }
            if !upstream.method.algorithm.rampsSlowStart {
                for argument in slowStartArguments {
                    upstream.warnings.append(reader.error(argument, "\"slow_start\" is ignored by balancing method \"\(methodDirective.name)\" (only round robin and least_conn ramp weights)"))
                }
            }
        }
        if upstream.servers.isEmpty, upstream.zookeeper == nil {
            throw reader.error(directive, "no servers are inside upstream \"\(ConfigError.shown(upstream.name))\" (add \"server\" lines or a \"zookeeper\" directive)")
        }
        if upstream.zookeeper == nil, !upstream.servers.isEmpty, upstream.servers.allSatisfy(\.backup) {
            throw reader.error(directive, "upstream \"\(ConfigError.shown(upstream.name))\" has only backup servers")
        }
        return upstream
    }

    /// The algorithm named by `directive` parses its own arguments; errors point at the argument.
    private mutating func method(_ directive: ConfigDirective, _ algorithm: any BalancingAlgorithm.Type, _ reader: ConfigReader) throws(ConfigError) {
        if let methodDirective {
            throw reader.error(directive, "load balancing method redefined (\"\(ConfigError.shown(methodDirective.name))\" at line \(methodDirective.line))")
        }
        methodDirective = directive
        switch algorithm.method(directive.arguments.map(\.text)) {
        case .success(let method):
            upstream.method = method
        case .failure(let problem):
            throw reader.error(directive.arguments[problem.argument], problem.message)
        }
    }

    /// `server ADDRESS [weight=N] [max_fails=N] [fail_timeout=T] [max_conns=N] [slow_start=T] [backup] [down];`
    private mutating func server(_ directive: ConfigDirective, _ reader: ConfigReader) throws(ConfigError) {
        let endpoint = try reader.address(directive.arguments[0], what: "upstream server", form: .dial)
        var server = StaticServer(host: endpoint.host, port: endpoint.port)
        try reader.parameters(directive.arguments.dropFirst()) { key, value, argument throws(ConfigError) in
            switch (key, value) {
            case ("weight", let value?):
                server.weight = try reader.number(argument, value, name: "weight", minimum: 1, maximum: MemberLimits.weights.upperBound)
            case ("max_fails", let value?):
                server.maxFails = try reader.number(argument, value, name: "max_fails", minimum: 0)
            case ("fail_timeout", let value?):
                server.failTimeout = try reader.duration(argument, value, name: "fail_timeout")
            case ("max_conns", let value?):
                server.maxConns = try reader.number(argument, value, name: "max_conns", minimum: 0)
            case ("backup", nil):
                server.backup = true
                backupArguments.append(argument)
            case ("down", nil):
                server.down = true
            case ("slow_start", let value?):
                server.slowStart = try reader.duration(argument, value, name: "slow_start")
                if server.slowStart > .zero { slowStartArguments.append(argument) }
            default:
                throw reader.error(argument, "invalid parameter \"\(ConfigError.shown(argument.text))\" in upstream \"server\" (supported: weight=, max_fails=, fail_timeout=, max_conns=, slow_start=, backup, down)\(reader.missingSemicolonHint(argument))")
            }
        }
        // The same address twice is two peers, as in nginx (their ids carry an ordinal).
        upstream.servers.append(server)
    }
}
