import ArgumentParser
import Logging

/// `--log-level`, shared by the subcommands that log.
struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError("unknown --log-level '\(self.logLevel)'; use trace, debug, info, notice, warning, error or critical")
        }
    }

    /// Bootstraps logging to stderr once per process and returns the command's logger.
    func makeLogger() -> Logger {
        let level = Logger.Level(rawValue: self.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "balancer")
    }
}
