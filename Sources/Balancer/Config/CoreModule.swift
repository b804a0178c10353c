/// The main context (nginx's core module): what is read outside any block.
struct MainContext {
    var configuration = BalancerConfiguration()
    var stream: ConfigDirective?

    /// Event loops beyond this are a typo, not a machine.
    static let maximumWorkerProcesses = 1024

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
    ])
}
