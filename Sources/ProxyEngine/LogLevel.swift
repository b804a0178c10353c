/// The grades of an error-log message, from the most verbose: nginx's `debug` to `crit` (its
/// `alert` and `emerg` are `critical` here), the same six as swift-log's. Defined in the engine,
/// which decides per session which messages to make, and used by the config (`error_log`,
/// `limit_conn_log_level`), which stays free of the logging library.
public enum LogLevel: Int, Sendable, Equatable, Comparable, BitwiseCopyable {
    case debug, info, notice, warning, error, critical

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}
