import ArgumentParser
import Balancer
import Logging

/// `--log-level`, shared by the subcommands that log.
struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    var level: Logger.Level { Logger.Level(rawValue: self.logLevel) ?? .info }

    func validate() throws {
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError("unknown --log-level '\(self.logLevel)'; use trace, debug, info, notice, warning, error or critical")
        }
    }

    /// Bootstraps logging once per process and returns the command's logger: to the `error_log`
    /// files if there are any (each at its own level), else to stderr at `--log-level`.
    func makeLogger(errorLogs: ErrorLogFiles? = nil) -> Logger {
        if let errorLogs, !errorLogs.outputs.isEmpty {
            LoggingSystem.bootstrap { _ in errorLogs.handler() }
            return Logger(label: "balancer")
        }
        let level = self.level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "balancer")
    }
}
