import Balancer
import Logging
import MusterBase
import ServiceLifecycle
import UnixSignals

/// Re-reads the config file on SIGHUP and applies it; a bad file is logged and the old config stays.
struct ReloadOnHangup: Service {
    let balancer: BalancerService
    let source: ConfigSource?
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups.cancelOnGracefulShutdown() {
            guard let source = self.source else {
                self.logger.warning("SIGHUP ignored: running from the quick start, no config file to re-read")
                continue
            }
            self.logger.notice("SIGHUP: reloading configuration", metadata: [LogKey.config: "\(source.configPath)"])
            await self.balancer.reload(source: source)
        }
    }
}
