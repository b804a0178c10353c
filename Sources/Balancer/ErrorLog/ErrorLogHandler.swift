#if canImport(Glibc)
import Glibc
#endif
import Logging

/// A swift-log handler writing to `error_log` destinations, each from its own level, in nginx's
/// error-log line format: `2026/12/02 04:56:20 [warn] 1234#0: message, key: value, ...`.
public struct ErrorLogHandler: LogHandler {
    /// The files and the level each takes.
    public let outputs: [(file: ErrorLogFile, level: Logger.Level)]
    public var metadata: Logger.Metadata = [:]
    /// The lowest level any output takes (lower messages are dropped before they are formatted).
    public var logLevel: Logger.Level

    public init(outputs: [(file: ErrorLogFile, level: Logger.Level)]) {
        self.outputs = outputs
        self.logLevel = outputs.map(\.level).min() ?? .critical
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let line = Array(Self.line(event: event, handlerMetadata: metadata, time: time(nil), pid: getpid()).utf8)
        for output in outputs where event.level >= output.level {
            output.file.write(line, level: event.level)
        }
    }

    /// `2026/12/02 04:56:20 [warn] 1234#0: `, what every line starts with.
    static func prefix(level: Logger.Level, time seconds: time_t, pid: pid_t) -> String {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let stamp = "\(parts.tm_year + 1900)/\(two(parts.tm_mon + 1))/\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
        return "\(stamp) [\(name(level))] \(pid)#0: "
    }

    /// nginx's level names.
    static func name(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "debug"
        case .info: "info"
        case .notice: "notice"
        case .warning: "warn"
        case .error: "error"
        case .critical: "crit"
        }
    }

    static func line(event: LogEvent, handlerMetadata: Logger.Metadata, time seconds: time_t, pid: pid_t) -> String {
        var line = Self.prefix(level: event.level, time: seconds, pid: pid) + "\(event.message)"
        let merged = handlerMetadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() {
            line += ", \(key): \(merged[key]!)"
        }
        return line + "\n"
    }
}
