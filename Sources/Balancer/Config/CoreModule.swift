/// The main context (nginx's core module): what is read outside any block.
struct MainContext {
    var configuration = BalancerConfiguration()
    var stream: ConfigDirective?

    /// Event loops beyond this are a typo, not a machine.
    static let maximumWorkerProcesses = 1024
    /// The kernel's own ceiling on open files per process (`fs.nr_open` cannot exceed it).
    static let maximumOpenFiles = 1 << 30

    static let commands = ConfigCommandTable<MainContext>(.main, [
        ConfigCommand("worker_processes") { main, directive, reader throws(ConfigError) in
            let argument = directive.arguments[0]
            if argument.text == "auto" { return }
            guard argument.text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  let count = Int(argument.text), (1...maximumWorkerProcesses).contains(count) else {
                throw reader.error(argument, "invalid worker_processes \"\(ConfigError.shown(argument.text))\": expected \"auto\" or a whole number from 1 to \(maximumWorkerProcesses)")
            }
            main.configuration.workerProcesses = count
        },
        ConfigCommand("events", arguments: 0...0, block: true) { main, directive, reader throws(ConfigError) in
            var events = EventsContext()
            try reader.read(directive.block ?? [], into: &events, EventsContext.commands)
            events.apply(to: &main.configuration)
        },
        ConfigCommand("stream", arguments: 0...0, block: true) { main, directive, reader throws(ConfigError) in
            main.stream = directive
            var stream = StreamContext(configuration: main.configuration)
            try reader.read(directive.block ?? [], into: &stream, StreamContext.commands)
            main.configuration = try stream.finish(directive, reader)
        },
        ConfigCommand("user", arguments: 1...2) { main, directive, _ in
            main.configuration.user = UserConfiguration(
                user: directive.arguments[0].text, group: directive.arguments.count == 2 ? directive.arguments[1].text : nil,
                origin: "user, \(directive.file):\(directive.line):\(directive.column)")
        },
        ConfigCommand("pid") { main, directive, reader throws(ConfigError) in
            main.configuration.pidFile = try reader.path(directive.arguments[0])
        },
        ConfigCommand("worker_rlimit_nofile") { main, directive, reader throws(ConfigError) in
            main.configuration.openFileLimit = try reader.number(directive, minimum: 1, maximum: maximumOpenFiles)
        },
        ConfigCommand("load_module", repeats: true) { _, directive, reader throws(ConfigError) in
            // The stream module is built in; nginx's name for it, as Debian's modules-enabled loads it.
            let path = directive.arguments[0].text
            let name = path.split(separator: "/").last.map(String.init) ?? path
            guard name == "ngx_stream_module.so" else {
                throw reader.error(directive.arguments[0], "module \"\(ConfigError.shown(name))\" is not available: Muster has only the stream module, built in (load_module of ngx_stream_module.so is accepted and ignored)")
            }
        },
        ConfigCommand("daemon") { _, directive, reader throws(ConfigError) in
            if try reader.flag(directive) {
                throw reader.error(directive.arguments[0], "\"daemon on\" is not supported: Muster stays in the foreground; run it under the service manager (systemd) and write \"daemon off;\"")
            }
        },
    ] + ErrorLogModule.commands.within(\.configuration.errorLogs))
}
