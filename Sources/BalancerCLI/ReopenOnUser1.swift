import Balancer
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGUSR1 reopens every log file, as nginx does for logrotate: the one place both the error logs
/// and the access logs are reopened from.
struct ReopenOnUser1: Service {
    let logs: [any LogReopening]
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sigusr1)
        for await _ in signals.cancelOnGracefulShutdown() {
            self.logger.notice("SIGUSR1: reopening log files")
            for log in self.logs {
                log.reopenLogs()
            }
        }
    }
}
