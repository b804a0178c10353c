/// The log module's directives (`ngx_stream_log_module`): `log_format` in `stream`, `access_log`
/// in `stream` and `server`. A server's `access_log` lines replace the stream's; a server with none
/// (and no `access_log off`) inherits them, as nginx merges them. There is no default format in
/// nginx's stream module: `access_log PATH` without a format name is an error there and here.
struct AccessLogSettings {
    /// The formats by name, in file order (`stream` only; a server gets the stream's).
    var formats: [LogFormat] = []
    /// This context's `access_log` lines.
    var logs: Setting = .unset

    /// A context's `access_log` lines: none given, `off`, or the logs.
    enum Setting: Equatable {
        case unset
        case off
        case logs([AccessLogConfiguration])
    }

    /// What a server writes: its own lines, else the stream's.
    func inherited(from stream: AccessLogSettings) -> [AccessLogConfiguration] {
        switch (logs, stream.logs) {
        case (.off, _), (.unset, .off), (.unset, .unset): return []
        case (.logs(let logs), _), (.unset, .logs(let logs)): return logs
        }
    }

    static let accessLog = ConfigCommand<AccessLogSettings>("access_log", arguments: 1...6, repeats: true, text: 2...) { settings, directive, reader throws(ConfigError) in
        try settings.accessLog(directive, reader)
    }

    static let streamCommands: [ConfigCommand<AccessLogSettings>] = [
        ConfigCommand("log_format", arguments: 2...1000, repeats: true, text: 1...) { settings, directive, reader throws(ConfigError) in
            try settings.logFormat(directive, reader)
        },
        accessLog,
    ]

    static let serverCommands: [ConfigCommand<AccessLogSettings>] = [accessLog]

    private mutating func accessLog(_ directive: ConfigDirective, _ reader: ConfigReader) throws(ConfigError) {
        let arguments = directive.arguments
        if arguments[0].text == "off" {
            guard arguments.count == 1 else { throw reader.error(arguments[1], "invalid parameter \"\(ConfigError.shown(arguments[1].text))\"") }
            // As nginx: `off` anywhere in a block wins over its other `access_log` lines.
            logs = .off
            return
        }
        if arguments[0].text.hasPrefix("syslog:") {
            throw reader.error(arguments[0], "access_log to syslog is not supported; give a file")
        }
        if arguments[0].text.contains("$") {
            throw reader.error(arguments[0], "variables in an access_log path are not supported")
        }
        guard arguments.count >= 2 else {
            throw reader.error(directive, "log format is not specified (nginx's stream module has no default format: name a \"log_format\")")
        }
        guard let format = formats.first(where: { $0.name.lowercased() == arguments[1].text.lowercased() }) else {
            throw reader.error(arguments[1], "unknown log format \"\(ConfigError.shown(arguments[1].text))\" (define it with \"log_format\" in \"stream\" before)")
        }
        var log = AccessLogConfiguration(path: try reader.path(arguments[0]), format: format)
        try reader.parameters(arguments.dropFirst(2)) { key, value, argument throws(ConfigError) in
            switch (key, value) {
            case ("buffer", let value?):
                log.bufferSize = try reader.size(argument, value, name: "buffer size", range: 1...(64 * 1024 * 1024))
            case ("flush", let value?):
                log.flush = try reader.duration(argument, value, name: "flush time", allowZero: false)
            case ("if", let value?):
                log.condition = try Self.template(argument, value, offset: 3)
            case ("gzip", _):
                throw reader.error(argument, "gzip access logs are not supported")
            default:
                throw reader.error(argument, "invalid parameter \"\(ConfigError.shown(argument.text))\" in \"access_log\" (buffer=SIZE, flush=TIME or if=CONDITION)\(reader.missingSemicolonHint(argument))")
            }
        }
        if log.flush != nil && log.bufferSize == 0 {
            throw reader.error(directive, "no buffer is defined for access_log \"\(ConfigError.shown(arguments[0].text))\"")
        }
        switch logs {
        case .off: break
        case .unset: logs = .logs([log])
        case .logs(let earlier): logs = .logs(earlier + [log])
        }
    }

    private mutating func logFormat(_ directive: ConfigDirective, _ reader: ConfigReader) throws(ConfigError) {
        let name = directive.arguments[0].text
        if formats.contains(where: { $0.name == name }) {
            throw reader.error(directive.arguments[0], "duplicate \"log_format\" name \"\(ConfigError.shown(name))\"")
        }
        var strings = directive.arguments.dropFirst()
        var escape = LogEscape.default
        if let first = strings.first, case ("escape", let value?) = reader.keyValue(first.text) {
            guard let chosen = LogEscape(rawValue: value) else {
                throw reader.error(first, "unknown log format escaping \"\(ConfigError.shown(value))\" (default, json or none)")
            }
            escape = chosen
            strings = strings.dropFirst()
        }
        var template = StreamTemplate(parts: [])
        for argument in strings {
            do {
                try template.append(compiling: argument.text)
            } catch {
                throw Self.error(argument, error.message, offset: error.offset)
            }
        }
        formats.append(LogFormat(name: name, escape: escape, template: template))
    }

    private static func template(_ argument: ConfigDirective.Argument, _ text: String, offset: Int) throws(ConfigError) -> StreamTemplate {
        do {
            return try StreamTemplate(compiling: text)
        } catch {
            throw Self.error(argument, error.message, offset: offset + error.offset)
        }
    }

    /// A template error points at the character inside the argument.
    private static func error(_ argument: ConfigDirective.Argument, _ message: String, offset: Int) -> ConfigError {
        argument.error(at: offset, message)
    }
}
