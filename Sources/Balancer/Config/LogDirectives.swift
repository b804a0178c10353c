/// The log module's directives (`ngx_stream_log_module`): `log_format` in `stream`, `access_log`
/// in `stream` and `server`. A server's `access_log` lines replace the stream's; a server with none
/// (and no `access_log off`) inherits them, as nginx merges them. There is no default format in
/// nginx's stream module: `access_log PATH` without a format name is an error there and here.
struct LogDirectives {
    let file: String
    /// The formats by name, in file order.
    private(set) var formats: [LogFormat] = []

    /// A context's `access_log` lines: none given, `off`, or the logs.
    enum Setting: Equatable {
        case unset
        case off
        case logs([AccessLogConfiguration])

        /// What a server writes: its own lines, else the stream's.
        func inherited(from parent: Setting) -> [AccessLogConfiguration] {
            switch self {
            case .off: return []
            case .logs(let logs): return logs
            case .unset: return parent == .unset ? [] : parent.inherited(from: .unset)
            }
        }
    }

    init(file: String) {
        self.file = file
    }

    private func error(_ argument: ConfigDirective.Argument, _ message: String, offset: Int = 0) -> ConfigError {
        ConfigError(file: self.file, line: argument.line, column: argument.column + offset, message: message)
    }

    private func error(_ directive: ConfigDirective, _ message: String) -> ConfigError {
        ConfigError(file: self.file, line: directive.line, column: directive.column, message: message)
    }

    private func template(_ argument: ConfigDirective.Argument, text: String? = nil, offset: Int = 0) throws(ConfigError) -> StreamTemplate {
        do {
            return try StreamTemplate(compiling: text ?? argument.text)
        } catch {
            throw self.error(argument, error.message, offset: offset + error.offset)
        }
    }

    /// `log_format` (stream only); false for any other directive.
    mutating func streamDirective(_ directive: ConfigDirective, logs: inout Setting) throws(ConfigError) -> Bool {
        if directive.name == "log_format" {
            try self.logFormat(directive)
            return true
        }
        return try self.accessLog(directive, into: &logs)
    }

    /// `access_log` (stream and server); false for any other directive.
    func accessLog(_ directive: ConfigDirective, into setting: inout Setting) throws(ConfigError) -> Bool {
        guard directive.name == "access_log" else { return false }
        try self.requireSimple(directive, minimum: 1)
        let arguments = directive.arguments
        if arguments[0].text == "off" {
            guard arguments.count == 1 else { throw self.error(arguments[1], "invalid parameter \"\(ConfigError.shown(arguments[1].text))\"") }
            // As nginx: `off` anywhere in a block wins over its other `access_log` lines.
            setting = .off
            return true
        }
        guard arguments.count >= 2 else {
            throw self.error(directive, "log format is not specified (nginx's stream module has no default format: name a \"log_format\")")
        }
        guard let format = self.formats.first(where: { $0.name.lowercased() == arguments[1].text.lowercased() }) else {
            throw self.error(arguments[1], "unknown log format \"\(ConfigError.shown(arguments[1].text))\"")
        }
        var log = AccessLogConfiguration(path: arguments[0].text, format: format)
        if arguments[0].text.hasPrefix("syslog:") {
            throw self.error(arguments[0], "access_log to syslog is not supported; give a file")
        }
        if arguments[0].text.contains("$") {
            throw self.error(arguments[0], "variables in an access_log path are not supported")
        }
        for argument in arguments.dropFirst(2) {
            let text = argument.text
            if let value = text.dropPrefix("buffer=") {
                guard let size = Self.size(value), size > 0 else {
                    throw self.error(argument, "invalid buffer size \"\(ConfigError.shown(value))\": expected a size such as 32k or 1m")
                }
                log.bufferSize = size
            } else if let value = text.dropPrefix("flush=") {
                guard let flush = try? ConfigReader.parseDuration(value), flush > .zero else {
                    throw self.error(argument, "invalid flush time \"\(ConfigError.shown(value))\": expected a time such as 1s or 5m")
                }
                log.flush = flush
            } else if let value = text.dropPrefix("if=") {
                log.condition = try self.template(argument, text: value, offset: 3)
            } else if text == "gzip" || text.hasPrefix("gzip=") {
                throw self.error(argument, "gzip access logs are not supported")
            } else {
                throw self.error(argument, "invalid parameter \"\(ConfigError.shown(text))\"")
            }
        }
        if log.flush != nil && log.bufferSize == 0 {
            throw self.error(directive, "no buffer is defined for access_log \"\(ConfigError.shown(log.path))\"")
        }
        switch setting {
        case .off: break
        case .unset: setting = .logs([log])
        case .logs(let logs): setting = .logs(logs + [log])
        }
        return true
    }

    private mutating func logFormat(_ directive: ConfigDirective) throws(ConfigError) {
        try self.requireSimple(directive, minimum: 2)
        let name = directive.arguments[0].text
        if self.formats.contains(where: { $0.name == name }) {
            throw self.error(directive.arguments[0], "duplicate \"log_format\" name \"\(ConfigError.shown(name))\"")
        }
        var strings = directive.arguments.dropFirst()
        var escape = LogEscape.default
        if let first = strings.first, let value = first.text.dropPrefix("escape=") {
            guard let chosen = LogEscape(rawValue: value) else {
                throw self.error(first, "unknown log format escaping \"\(ConfigError.shown(value))\" (default, json or none)")
            }
            escape = chosen
            strings = strings.dropFirst()
        }
        var template = StreamTemplate(parts: [])
        for argument in strings {
            do {
                try template.append(compiling: argument.text)
            } catch {
                throw self.error(argument, error.message, offset: error.offset)
            }
        }
        self.formats.append(LogFormat(name: name, escape: escape, template: template))
    }

    private func requireSimple(_ directive: ConfigDirective, minimum: Int) throws(ConfigError) {
        if directive.block != nil {
            throw self.error(directive, "directive \"\(ConfigError.shown(directive.name))\" has no block; end it with \";\"")
        }
        if directive.arguments.count < minimum {
            throw self.error(directive, "invalid number of arguments in \"\(ConfigError.shown(directive.name))\" directive")
        }
    }

    /// nginx's `ngx_parse_size`: bytes, or a number with `k`/`K` or `m`/`M`; nil if not one.
    static func size(_ text: String) -> Int? {
        let scales: [Character: Int] = ["k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20]
        let scale = text.last.flatMap { scales[$0] } ?? 1
        let digits = scale == 1 ? Substring(text) : text.dropLast()
        guard digits.utf8.count <= 9, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(digits) else {
            return nil
        }
        return value * scale
    }
}

extension String {
    /// The rest after `prefix`, nil if the string does not start with it.
    fileprivate func dropPrefix(_ prefix: String) -> String? {
        self.hasPrefix(prefix) ? String(self.dropFirst(prefix.count)) : nil
    }
}
