/// `admin ADDR [max_connections=N] [request_timeout=T] [keepalive_timeout=T] [max_request_line=SIZE] [max_header_size=SIZE];`
/// in `stream {}`: Muster's own directive, the admin endpoint.
enum AdminModule {
    static let commands: [ConfigCommand<BalancerConfiguration>] = [
        ConfigCommand("admin", arguments: 1...6) { configuration, directive, reader throws(ConfigError) in
            let endpoint = try reader.address(directive.arguments[0], what: "admin address", form: .admin)
            configuration.admin = endpoint.description
            configuration.adminOrigin = "admin, \(directive.file):\(directive.line):\(directive.column)"
            configuration.adminLimits = try limits(directive.arguments.dropFirst(), reader)
        },
    ]

    private static let parameters = "max_connections=N, request_timeout=T, keepalive_timeout=T, max_request_line=SIZE, max_header_size=SIZE"

    private static func limits(_ arguments: ArraySlice<ConfigDirective.Argument>, _ reader: ConfigReader) throws(ConfigError) -> AdminLimits {
        var limits = AdminLimits()
        var seen: Set<Substring> = []
        for argument in arguments {
            let (key, value) = reader.keyValue(argument.text)
            guard let value else {
                throw reader.error(argument, "unsupported parameter \"\(ConfigError.shown(argument.text))\" in \"admin\" (\(parameters))\(reader.missingSemicolonHint(argument))")
            }
            if !seen.insert(key).inserted { throw reader.error(argument, "duplicate \"\(ConfigError.shown(key))\" parameter") }
            switch key {
            case "max_connections": limits.maxConnections = try reader.number(argument, value, name: "max_connections", minimum: 1, maximum: 1 << 20)
            case "request_timeout": limits.requestTimeout = try reader.duration(argument, value, name: "request_timeout", allowZero: false)
            case "keepalive_timeout": limits.keepaliveTimeout = try reader.duration(argument, value, name: "keepalive_timeout", allowZero: false)
            case "max_request_line": limits.maxRequestLine = try reader.size(argument, value, name: "max_request_line")
            case "max_header_size": limits.maxHeaderSize = try reader.size(argument, value, name: "max_header_size")
            default:
                throw reader.error(argument, "unsupported parameter \"\(ConfigError.shown(key))\" in \"admin\" (\(parameters))")
            }
        }
        return limits
    }
}
