/// `events { }` (nginx's event core module).
struct EventsContext {
    var workerConnections: Int?

    static let commands = ConfigCommandTable<EventsContext>(.events, [
        ConfigCommand("worker_connections") { events, directive, reader throws(ConfigError) in
            events.workerConnections = try reader.number(directive, minimum: 1)
        },
    ])

    func apply(to configuration: inout BalancerConfiguration) {
        configuration.workerConnections = workerConnections
    }
}
