/// Which health check the agent runs against its server.
public enum HealthCheckSpec: Sendable, Equatable {
    /// Healthy when a TCP connection can be opened (the default).
    case tcpConnect
    /// Connects, sends `send` plus a newline (nothing when `send` is nil), and is healthy when the
    /// reply starts with `expect`. Catches a hung server, which still completes TCP handshakes
    /// from the kernel's accept backlog.
    case lineExchange(send: String?, expect: String)
    /// Runs `/bin/sh -c command`; healthy on exit status 0. Killed (with its process group) on timeout.
    case command(String)

    /// Short human-readable form for the start-up log line.
    public var summary: String {
        switch self {
        case .tcpConnect: "tcp-connect"
        case .lineExchange(let send, let expect):
            "line-exchange(send: \(send.map { "'\($0)'" } ?? "nothing"), expect prefix: '\(expect)')"
        case .command(let command): "command('\(command)')"
        }
    }
}
