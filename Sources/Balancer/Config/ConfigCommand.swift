/// One directive a context accepts, in the spirit of nginx's `ngx_command_t`: its name, how many
/// arguments it takes, whether it opens a block, whether it may repeat, and the handler that
/// reads it into the context's state. Each module's file lists its commands; `ConfigReader.read`
/// checks the shape (block, argument count, duplicates) before the handler runs, so a handler
/// only reads values.
struct ConfigCommand<Context>: Sendable {
    typealias Handler = @Sendable (inout Context, ConfigDirective, ConfigReader) throws(ConfigError) -> Void

    let name: String
    let arguments: ClosedRange<Int>
    /// `name ... { }` rather than `name ... ;`.
    let takesBlock: Bool
    /// Whether the directive may appear more than once in one block (`listen`, `server`); the
    /// others are refused the second time with nginx's "is duplicate".
    let repeats: Bool
    /// The arguments, from this index on, that are string values (templates such as `return`'s
    /// value or `log_format`'s strings), which take any character, newlines and tabs included, as
    /// in nginx. Every other argument names something (a file, a host, a ZooKeeper path, an id, a
    /// number) and is refused by `ConfigReader.read` if it holds a control or invisible character.
    let text: PartialRangeFrom<Int>?
    let handle: Handler

    init(
        _ name: String, arguments: ClosedRange<Int> = 1...1, block: Bool = false, repeats: Bool = false,
        text: PartialRangeFrom<Int>? = nil, _ handle: @escaping Handler
    ) {
        self.name = name
        self.arguments = arguments
        self.takesBlock = block
        self.repeats = repeats
        self.text = text
        self.handle = handle
    }

    /// `name VALUE;` that only sets one field, as nginx's `ngx_conf_set_flag_slot`,
    /// `ngx_conf_set_msec_slot` and `ngx_conf_set_num_slot` do: `read` is the reader's parse for
    /// the field's kind, so a module names the field and nothing else.
    static func slot<Value>(
        _ name: String, _ field: WritableKeyPath<Context, Value?> & Sendable,
        _ read: @escaping @Sendable (ConfigReader, ConfigDirective) throws(ConfigError) -> Value
    ) -> ConfigCommand {
        ConfigCommand(name) { context, directive, reader throws(ConfigError) in
            context[keyPath: field] = try read(reader, directive)
        }
    }

    /// `name on|off;` into `field` (`ngx_conf_set_flag_slot`).
    static func flag(_ name: String, _ field: WritableKeyPath<Context, Bool?> & Sendable) -> ConfigCommand {
        slot(name, field) { reader, directive throws(ConfigError) in try reader.flag(directive) }
    }

    /// `name TIME;` into `field`, 0 included (`ngx_conf_set_msec_slot`).
    static func duration(_ name: String, _ field: WritableKeyPath<Context, Duration?> & Sendable) -> ConfigCommand {
        slot(name, field) { reader, directive throws(ConfigError) in try reader.duration(directive) }
    }

    /// The same command read into a part of a larger context: a directive allowed in several
    /// contexts (`proxy_timeout` in `stream` and `server`) is written once, on the settings it fills.
    func within<Outer>(_ path: WritableKeyPath<Outer, Context> & Sendable) -> ConfigCommand<Outer> {
        let handle = self.handle
        return ConfigCommand<Outer>(name, arguments: arguments, block: takesBlock, repeats: repeats, text: text) { outer, directive, reader throws(ConfigError) in
            try handle(&outer[keyPath: path], directive, reader)
        }
    }
}

extension Array {
    /// Every command of a module, read into a part of a larger context.
    func within<Context, Outer>(_ path: WritableKeyPath<Outer, Context> & Sendable) -> [ConfigCommand<Outer>] where Element == ConfigCommand<Context> {
        map { $0.within(path) }
    }
}

/// Where a directive is read, as nginx's NGX_MAIN_CONF, NGX_STREAM_SRV_CONF, ... name it; it words
/// the unknown-directive message.
enum ConfigContext: Sendable {
    case main, events, stream, upstream, server

    var shown: String {
        switch self {
        case .main: "the main context"
        case .events: "\"events\""
        case .stream: "\"stream\""
        case .upstream: "\"upstream\""
        case .server: "\"server\""
        }
    }

    /// Small contexts list what they accept in the unknown-directive message; the large ones
    /// point at the reference instead of a long line.
    var listsItsDirectives: Bool { self == .main || self == .events }
}

/// The directives of one context, by name.
struct ConfigCommandTable<Context>: Sendable {
    let context: ConfigContext
    let commands: [ConfigCommand<Context>]
    private let byName: [String: Int]

    init(_ context: ConfigContext, _ commands: [ConfigCommand<Context>]) {
        self.context = context
        self.commands = commands
        var byName: [String: Int] = [:]
        for (index, command) in commands.enumerated() {
            precondition(byName.updateValue(index, forKey: command.name) == nil, "directive \(command.name) is listed twice in \(context)")
        }
        self.byName = byName
    }

    subscript(name: String) -> ConfigCommand<Context>? {
        byName[name].map { commands[$0] }
    }

    var names: [String] { commands.map(\.name) }
}
