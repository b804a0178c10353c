import MusterBase

/// The one dispatcher of the config tree and the value readers every module shares.
///
/// `read` runs a block's directives through its context's `ConfigCommandTable`: an unknown name,
/// a block where `;` belongs (or the reverse), a wrong argument count and a repeated directive are
/// refused here, with the position, before the module's handler reads the values.
struct ConfigReader: Sendable {
    /// The main config file, for errors that belong to no directive.
    let file: String
    /// The folder relative paths (`pid`, `error_log`, ...) are resolved against, as nginx's `-p`.
    let prefix: String

    // MARK: dispatch

    func read<Context>(_ directives: [ConfigDirective], into context: inout Context, _ table: ConfigCommandTable<Context>) throws(ConfigError) {
        var seen: Set<String> = []
        for directive in directives {
            guard let command = table[directive.name] else {
                throw unknown(directive, in: table)
            }
            if !command.repeats, !seen.insert(directive.name).inserted {
                throw duplicate(directive)
            }
            if command.takesBlock {
                guard directive.block != nil else {
                    throw error(directive, "directive \"\(ConfigError.shown(directive.name))\" needs a { } block")
                }
            } else if directive.block != nil {
                throw error(directive, "directive \"\(ConfigError.shown(directive.name))\" has no block; end it with \";\"")
            }
            if !command.arguments.contains(directive.arguments.count) {
                throw error(directive, "invalid number of arguments in \"\(ConfigError.shown(directive.name))\" directive")
            }
            for (index, argument) in directive.arguments.enumerated() where command.text?.contains(index) != true {
                try requireVisible(argument, in: directive)
            }
            try command.handle(&context, directive, self)
        }
    }

    /// Every directive name of every context: a name where a parameter was expected usually means
    /// the line above lacks its `;`.
    static let knownDirectives: Set<String> = Set(
        MainContext.commands.names + EventsContext.commands.names + StreamContext.commands.names
            + UpstreamContext.commands.names + ServerContext.commands.names + ["include"])

    /// Whether a word that names something may hold `scalar`: no control character but the tab,
    /// no format character, separator, private-use or unassigned code point, so what a name, path
    /// or address says is what it shows (a NUL would cut a C string, a newline forge a log line, a
    /// bidi override reorder a name). String values (`ConfigCommand.text`) are not held to it.
    static func isVisible(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\\" || scalar == "\t" || UntrustedText.isPlain(scalar)
    }

    /// Refuses an argument of `directive` that names something (a file, host, path, id, ...) and
    /// holds a character that `isVisible` refuses, at the argument's position.
    func requireVisible(_ argument: ConfigDirective.Argument, in directive: ConfigDirective) throws(ConfigError) {
        guard let bad = argument.text.unicodeScalars.first(where: { !Self.isVisible($0) }) else { return }
        let code = String(bad.value, radix: 16, uppercase: true)
        throw error(
            argument,
            "control or invisible character U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code) in \"\(ConfigError.shown(argument.text))\": \"\(ConfigError.shown(directive.name))\" takes visible text here (only string values, such as \"return\" and \"log_format\" strings, may hold control characters)")
    }

    // MARK: errors

    func error(_ directive: ConfigDirective, _ message: String) -> ConfigError {
        ConfigError(file: directive.file, line: directive.line, column: directive.column, message: message)
    }

    func error(_ argument: ConfigDirective.Argument, _ message: String) -> ConfigError {
        ConfigError(file: argument.file, line: argument.line, column: argument.column, message: message)
    }

    func duplicate(_ directive: ConfigDirective) -> ConfigError {
        error(directive, "\"\(ConfigError.shown(directive.name))\" directive is duplicate")
    }

    private func unknown<Context>(_ directive: ConfigDirective, in table: ConfigCommandTable<Context>) -> ConfigError {
        if directive.name == "http" {
            return error(directive, "\"http\" blocks are not supported: Muster proxies \"stream\" (TCP) only; the http part belongs to a web server, so move it to that server's own config")
        }
        var place = table.context.shown
        if table.context.listsItsDirectives {
            place += " (only \(Self.listed(table.names)) \(table.names.count == 1 ? "is" : "are") supported)"
        }
        return error(directive, "unknown or unsupported directive \"\(ConfigError.shown(directive.name))\" in \(place)")
    }

    /// `"a"`, `"a" and "b"`, `"a", "b" and "c"`.
    private static func listed(_ names: [String]) -> String {
        let quoted = names.map { "\"\($0)\"" }
        guard let last = quoted.last else { return "nothing" }
        return quoted.count == 1 ? last : quoted.dropLast().joined(separator: ", ") + " and " + last
    }

    /// A hint for a parameter that is a directive's name.
    func missingSemicolonHint(_ argument: ConfigDirective.Argument) -> String {
        Self.knownDirectives.contains(argument.text) ? "; is a \";\" missing before it?" : ""
    }

    // MARK: values

    /// A whole number from `minimum` to `maximum`, digits only (no sign, no overflow).
    func number(_ argument: ConfigDirective.Argument, _ text: String, name: String, minimum: Int, maximum: Int = 1_000_000_000) throws(ConfigError) -> Int {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              text.utf8.count <= 10, let value = Int(text), value >= minimum, value <= maximum
        else {
            throw error(argument, "invalid \(ConfigError.shown(name)) \"\(ConfigError.shown(text))\": expected a whole number from \(minimum) to \(maximum)")
        }
        return value
    }

    /// The directive's only argument as a number.
    func number(_ directive: ConfigDirective, minimum: Int, maximum: Int = 1_000_000_000) throws(ConfigError) -> Int {
        try number(directive.arguments[0], directive.arguments[0].text, name: directive.name, minimum: minimum, maximum: maximum)
    }

    /// A config time, as nginx writes them: a bare number is seconds, and no fractions (`1500ms`,
    /// not `1.5s`), so a file means here what it means to nginx.
    static func parseDuration(_ text: String) throws(DurationSyntax.ParseError) -> Duration {
        try DurationSyntax.parse(text, bareNumber: .seconds, fractions: false)
    }

    func duration(_ argument: ConfigDirective.Argument, _ text: String, name: String, allowZero: Bool = true) throws(ConfigError) -> Duration {
        let expected = "expected a time such as 500ms, 1s, 30s, 10m, 1h or 1m30s"
        let value: Duration
        do {
            value = try Self.parseDuration(text)
        } catch {
            throw self.error(argument, "invalid \(ConfigError.shown(name)) \"\(ConfigError.shown(text))\": \(error.problem); \(expected)")
        }
        guard allowZero || value > .zero else {
            throw self.error(argument, "invalid \(ConfigError.shown(name)) \"\(ConfigError.shown(text))\": \(expected) (greater than zero)")
        }
        return value
    }

    /// The directive's only argument as a time.
    func duration(_ directive: ConfigDirective, allowZero: Bool = true) throws(ConfigError) -> Duration {
        try duration(directive.arguments[0], directive.arguments[0].text, name: directive.name, allowZero: allowZero)
    }

    /// nginx sizes: `512`, `8k`, `1m` (bytes), within `range`.
    func size(_ argument: ConfigDirective.Argument, _ text: String, name: String, range: ClosedRange<Int> = 256...(1024 * 1024)) throws(ConfigError) -> Int {
        var digits = Substring(text)
        var scale = 1
        if let last = digits.last, "kKmM".contains(last) {
            scale = (last == "k" || last == "K") ? 1024 : 1024 * 1024
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.utf8.count <= 7, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let value = Int(digits), range.contains(value * scale)
        else {
            throw error(argument, "invalid \(name) \"\(ConfigError.shown(text))\": expected a size such as 4k or 8192, from \(Self.shownSize(range.lowerBound)) to \(Self.shownSize(range.upperBound))")
        }
        return value * scale
    }

    /// The directive's only argument as a size.
    func size(_ directive: ConfigDirective, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        try size(directive.arguments[0], directive.arguments[0].text, name: directive.name, range: range)
    }

    /// `256 bytes`, `1m`, `16k`: how a size bound reads in an error.
    private static func shownSize(_ bytes: Int) -> String {
        if bytes >= 1024 * 1024, bytes % (1024 * 1024) == 0 { return "\(bytes / 1024 / 1024)m" }
        if bytes >= 1024, bytes % 1024 == 0 { return "\(bytes / 1024)k" }
        return bytes == 1 ? "1 byte" : "\(bytes) bytes"
    }

    /// `on` or `off`, the directive's only argument.
    func flag(_ directive: ConfigDirective) throws(ConfigError) -> Bool {
        switch directive.arguments[0].text {
        case "on": return true
        case "off": return false
        default:
            throw error(directive.arguments[0], "invalid value \"\(ConfigError.shown(directive.arguments[0].text))\" in \"\(ConfigError.shown(directive.name))\" directive, it must be \"on\" or \"off\"")
        }
    }

    /// `host:port` / `[v6]:port` / `*:port` / `port`, by `Endpoint`'s one rule for the form; the
    /// problem is worded here as nginx words it, with the argument's position.
    func address(_ argument: ConfigDirective.Argument, what: String, form: Endpoint.Form) throws(ConfigError) -> Endpoint {
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

    /// Each `key=value` (or bare word) parameter, refusing one given twice.
    func parameters(
        _ arguments: ArraySlice<ConfigDirective.Argument>,
        _ body: (_ key: Substring, _ value: String?, _ argument: ConfigDirective.Argument) throws(ConfigError) -> Void
    ) throws(ConfigError) {
        var seen: Set<Substring> = []
        for argument in arguments {
            let (key, value) = keyValue(argument.text)
            if !seen.insert(key).inserted {
                throw error(argument, "duplicate parameter \"\(ConfigError.shown(key))\"")
            }
            try body(key, value, argument)
        }
    }

    /// A file path, made absolute against the prefix.
    func path(_ argument: ConfigDirective.Argument) throws(ConfigError) -> String {
        guard !argument.text.isEmpty else { throw error(argument, "empty path") }
        return ConfigPaths.absolute(argument.text, in: prefix)
    }

    /// `key=value` split; nil value for a bare word.
    func keyValue(_ text: String) -> (key: Substring, value: String?) {
        guard let eq = text.firstIndex(of: "=") else { return (Substring(text), nil) }
        return (text[..<eq], String(text[text.index(after: eq)...]))
    }
}
