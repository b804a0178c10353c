/// `error_log FILE|stderr|syslog:... [LEVEL];` (nginx's `ngx_log.c` and `ngx_syslog.c`), in main,
/// `stream` and `server`. It repeats: each one is a destination with its own level, as nginx
/// writes to all of them.
enum ErrorLogModule {
    static let commands: [ConfigCommand<[ErrorLogConfiguration]>] = [
        ConfigCommand("error_log", arguments: 1...2, repeats: true) { logs, directive, reader throws(ConfigError) in
            let target = directive.arguments[0]
            let destination: ErrorLogConfiguration.Destination
            if target.text == "stderr" {
                destination = .standardError
            } else if target.text.hasPrefix("syslog:") {
                switch SyslogTarget.parse(target.text.dropFirst("syslog:".count)) {
                case .success(let syslog): destination = .syslog(syslog)
                case .failure(let problem):
                    throw reader.error(target, "\(problem.message) in \"error_log\"")
                }
            } else {
                destination = .file(try reader.path(target))
            }
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
