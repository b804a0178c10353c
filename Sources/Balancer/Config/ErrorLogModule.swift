/// `error_log FILE|stderr [LEVEL];` (nginx's `ngx_log.c`), in main, `stream` and `server`. It
/// repeats: each one is a destination with its own level, as nginx writes to all of them.
enum ErrorLogModule {
    static let commands: [ConfigCommand<[ErrorLogConfiguration]>] = [
        ConfigCommand("error_log", arguments: 1...2, repeats: true) { logs, directive, reader throws(ConfigError) in
            let target = directive.arguments[0]
            let destination: ErrorLogConfiguration.Destination =
                target.text == "stderr" ? .standardError : .file(try reader.path(target))
            var level = ErrorLogConfiguration.defaultLevel
            if directive.arguments.count == 2 {
                let argument = directive.arguments[1]
                guard let named = ErrorLogConfiguration.level(named: argument.text) else {
                    let names = ErrorLogConfiguration.levels.map(\.name).joined(separator: ", ")
                    throw reader.error(argument, "invalid log level \"\(ConfigError.shown(argument.text))\" in \"error_log\" (\(names))\(reader.missingSemicolonHint(argument))")
                }
                level = named
            }
            logs.append(ErrorLogConfiguration(destination: destination, level: level))
        },
    ]
}
