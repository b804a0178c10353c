/// How a chat server listens and behaves.
public struct ChatServerConfiguration: Sendable {
    /// What the server does with a connection.
    public enum Mode: Sendable, Equatable {
        /// The chat line protocol (`HELLO`, `NICK`, `SAY`, `WHO`, `WHERE`, `PING`, `QUIT`).
        case chat
        /// Raw byte echo with no greeting: the backend for benchmarks.
        case echo
    }

    /// The address to bind, e.g. `127.0.0.1`.
    public var host: String
    /// The port to bind; 0 picks a free one (see ``ChatListener/localAddress``).
    public var port: Int
    /// The server's name, sent in the greeting and in answer to `WHERE`.
    public var serverName: String
    /// Chat or echo.
    public var mode: Mode
    /// The longest line accepted in chat mode, not counting the line ending.
    public var maxLineLength: Int
    /// The accept backlog; NIO's default of 128 makes reconnect storms pay SYN retransmits.
    public var backlog: Int32
    /// Every connection starts with a PROXY protocol header (v1 or v2) from a balancer in front;
    /// the greeting then names the client it carries (`HELLO <name> <address>:<port>`).
    public var proxyProtocol = false

    /// The longest line a chat server accepts unless told otherwise.
    public static let defaultMaxLineLength = 4096
    /// The accept backlog unless told otherwise.
    public static let defaultBacklog: Int32 = 4096

    /// Creates a configuration; the defaults suit thousands of connections.
    public init(
        host: String,
        port: Int,
        serverName: String,
        mode: Mode = .chat,
        maxLineLength: Int = ChatServerConfiguration.defaultMaxLineLength,
        backlog: Int32 = ChatServerConfiguration.defaultBacklog
    ) {
        self.host = host
        self.port = port
        self.serverName = serverName
        self.mode = mode
        self.maxLineLength = maxLineLength
        self.backlog = backlog
    }
}
