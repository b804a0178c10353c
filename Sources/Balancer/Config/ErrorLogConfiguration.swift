import ProxyEngine

/// `error_log FILE|stderr|syslog:... [LEVEL];`: where the balancer's own messages go, and from which level.
/// In the main context it is the process's log; in `stream {}` the default for every server's
/// session messages; in a `server {}` block the messages about that listener's sessions.
public struct ErrorLogConfiguration: Sendable, Equatable {
    public enum Destination: Sendable, Hashable {
        case standardError
        /// An absolute path (a relative one is resolved against the prefix when read).
        case file(String)
        /// `syslog:server=...`: each message a UDP datagram to a syslog server.
        case syslog(SyslogTarget)
    }

    /// The grades a config can name: the engine's (it decides which session messages to make),
    /// mapped onto `Logger.Level` for the balancer's own messages (ErrorLog/ErrorLogFiles.swift).
    public typealias Level = LogLevel

    public var destination: Destination
    public var level: Level

    /// nginx's default level for `error_log`.
    public static let defaultLevel = Level.error

    public init(destination: Destination, level: Level = ErrorLogConfiguration.defaultLevel) {
        self.destination = destination
        self.level = level
    }

    /// nginx's level names, from the most verbose: `crit`, `alert` and `emerg` are all critical
    /// here (swift-log has no finer grades above error).
    static let levels: [(name: String, level: Level)] = [
        ("debug", .debug), ("info", .info), ("notice", .notice), ("warn", .warning), ("error", .error),
        ("crit", .critical), ("alert", .critical), ("emerg", .critical),
    ]

    static func level(named name: String) -> Level? {
        levels.first { $0.name == name }?.level
    }
}

/// `user USER [GROUP];`: the account the balancer runs as once its listeners are bound (only when
/// it starts as root; otherwise it warns and ignores it, as nginx).
public struct UserConfiguration: Sendable, Equatable {
    public var user: String
    /// nil: the group named like the user, else the user's primary group.
    public var group: String?
    /// `user, FILE:LINE:COL`, for the error when the account does not exist.
    public var origin: String

    public init(user: String, group: String? = nil, origin: String) {
        self.user = user
        self.group = group
        self.origin = origin
    }
}
