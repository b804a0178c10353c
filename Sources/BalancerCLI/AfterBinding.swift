import Balancer
import Logging
import MusterBase
import ServiceLifecycle

/// What happens once the listeners are bound, as nginx does it: the pid file is written (so
/// whoever waits for it can connect at once), then the process switches to the `user`.
struct AfterBinding: Service {
    let balancer: BalancerService
    let pidFile: String?
    let userSwitch: UserSwitch?
    let logger: Logger

    func run() async throws {
        guard await self.balancer.waitUntilStarted() else { return }
        if let pidFile {
            if let problem = PidFile.write(pidFile) {
                throw UserSwitchError(message: problem)
            }
        }
        if let userSwitch {
            try userSwitch.apply()
            self.logger.notice(
                "listeners bound; running as user \(userSwitch.name), group \(userSwitch.groupName)",
                metadata: ["uid": "\(userSwitch.uid)", "gid": "\(userSwitch.gid)"])
        }
    }
}
