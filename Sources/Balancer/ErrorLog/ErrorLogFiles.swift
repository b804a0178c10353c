import Logging

/// The main context's `error_log` destinations, open for the life of the process: the balancer's
/// own log. Reopened on SIGUSR1.
public final class ErrorLogFiles: LogReopening {
    public let outputs: [(file: ErrorLogFile, level: Logger.Level)]

    /// Opens every destination; throws the first that cannot be opened.
    public init(_ logs: [ErrorLogConfiguration]) throws(ErrorLogError) {
        var outputs: [(file: ErrorLogFile, level: Logger.Level)] = []
        for log in logs {
            outputs.append((try ErrorLogFile(log.destination), log.level))
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
