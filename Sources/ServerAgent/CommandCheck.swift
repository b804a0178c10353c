import MusterBase
import Subprocess

/// Runs `/bin/sh -c command`; exit status 0 is healthy. The command runs in its own process group,
/// and the whole group is killed when the timeout passes, so a hung check cannot pile up.
public struct CommandCheck: HealthCheck {
    public var command: String
    public var timeout: Duration

    private enum Race: Sendable {
        case finished(CheckOutcome)
        case timedOut
    }

    public func run() async -> CheckOutcome {
        let command = self.command
        let timeout = self.timeout
        return await withTaskGroup(of: Race.self) { group in
            group.addTask {
                var options = PlatformOptions()
                options.processGroupID = 0
                // Cancellation runs the teardown: SIGKILL to the whole group at once.
                options.teardownSequence = [
                    .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .milliseconds(100))
                ]
                do {
                    let result = try await Subprocess.run(
                        .path("/bin/sh"),
                        arguments: ["-c", command],
                        platformOptions: options,
                        input: .none,
                        output: .discarded,
                        error: .discarded
                    )
                    switch result.terminationStatus {
                    case .exited(0):
                        return .finished(.healthy)
                    case .exited(let code):
                        return .finished(.unhealthy("check command exited with status \(code)"))
                    case .signaled(let signal):
                        return .finished(.unhealthy("check command killed by signal \(signal)"))
                    }
                } catch {
                    return .finished(.unhealthy("check command could not run: \(error)"))
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                } catch {
                    // Cancelled because the command finished first; this result is ignored.
                    return .timedOut
                }
            }
            let first = await group.next() ?? .timedOut
            group.cancelAll()
            switch first {
            case .finished(let outcome):
                return outcome
            case .timedOut:
                return .unhealthy("check command did not finish within \(DurationSyntax.format(timeout)); killed")
            }
        }
    }
}
