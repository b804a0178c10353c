/// `events { }` (nginx's event core module).
struct EventsContext {
    var workerConnections: Int?
    var multiAccept: Bool?

    static let commands = ConfigCommandTable<EventsContext>(.events, [
        ConfigCommand("worker_connections") { events, directive, reader throws(ConfigError) in
            events.workerConnections = try reader.number(directive, minimum: 1)
        },
        ConfigCommand("use") { _, directive, reader throws(ConfigError) in
            let method = directive.arguments[0]
            guard method.text == "epoll" else {
                throw reader.error(method, "invalid event type \"\(ConfigError.shown(method.text))\": Muster uses \"epoll\" only")
            }
        },
        .flag("multi_accept", \.multiAccept),
        // Each worker has its own listening sockets in its epoll set with EPOLLEXCLUSIVE, which
        // wakes one worker per new client: what nginx's accept mutex was for. Read, no effect.
        ConfigCommand("accept_mutex") { _, directive, reader throws(ConfigError) in
            _ = try reader.flag(directive)
        },
    ])

    func apply(to configuration: inout BalancerConfiguration) {
        configuration.workerConnections = workerConnections
        if let multiAccept { configuration.multiAccept = multiAccept }
    }
}
