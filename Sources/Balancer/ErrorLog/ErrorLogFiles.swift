import Logging

/// The main context's `error_log` destinations, open for the life of the process: the balancer's
/// own log. Reopened on SIGUSR1.
public final class ErrorLogFiles: LogReopening {
    public let outputs: [(file: ErrorLogFile, level: Logger.Level)]

    /// Opens every destination; throws the first that cannot be opened.
    public init(_ targets: [(destination: ErrorLogConfiguration.Destination, level: Logger.Level)]) throws(ErrorLogError) {
        var outputs: [(file: ErrorLogFile, level: Logger.Level)] = []
        for target in targets {
            outputs.append((try ErrorLogFile(target.destination), target.level))
        }
        self.outputs = outputs
    }

    public func handler() -> ErrorLogHandler {
        ErrorLogHandler(outputs: outputs)
    }

    public func reopenLogs() {
        for output in outputs {
            if let error = output.file.reopen() {
                // Written to the old file, which stays open.
                let handler = self.handler()
                Logger(label: "balancer") { _ in handler }.error(
                    "error log reopen failed; writing to the old file", metadata: ["error": "\(error)"])
            }
        }
    }
}

extension Logger.Level {
    /// A config's `error_log` level as swift-log's (the same six grades).
    public init(_ level: ErrorLogConfiguration.Level) {
        switch level {
        case .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }
}
