import Logging
import MusterBase
import ServiceLifecycle
import Subprocess
import SystemPackage
import Registry

/// Supervisor mode: runs the ChatServer as a child process.
///
/// Place it first in the service group: services stop in reverse order, so by the time this one is
/// told to shut down the registration has already deleted the node, and only then does the child
/// get SIGTERM (then SIGKILL after `stopTimeout`). When the child exits on its own, the member is
/// deregistered at once, without waiting for failed checks, and the service returns so the group
/// shuts down; the agent then exits with the child's status.
public final class ChildProcessService: Service, Sendable {
    let command: [String]
    let stopTimeout: Duration
    let coordinator: MemberCoordinator
    let settle: @Sendable () async -> Void
    let logger: Logger
    private let exitCodeBox = Locked<Int32?>(nil)

    /// - Parameter settle: awaited after deregistering on child exit (waits until the node is gone).
    public init(
        command: [String],
        stopTimeout: Duration,
        coordinator: MemberCoordinator,
        logger: Logger,
        settle: @escaping @Sendable () async -> Void
    ) {
        self.command = command
        self.stopTimeout = stopTimeout
        self.coordinator = coordinator
        self.logger = logger
        self.settle = settle
    }

    /// The exit code the agent should exit with: the child's, or 128 + signal, as a shell reports it.
    public var exitCode: Int32? { exitCodeBox.withLock { $0 } }

    public func run() async throws {
        guard let executableName = command.first else { return }
        let executable: Executable =
            executableName.contains("/") ? .path(FilePath(executableName)) : .name(executableName)
        var options = PlatformOptions()
        // Its own process group: a Ctrl-C in the terminal reaches only the agent, which deregisters
        // first and then forwards SIGTERM.
        options.processGroupID = 0
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: stopTimeout)]
        let arguments = Arguments(Array(command.dropFirst()))
        let platformOptions = options
        let logger = self.logger

        let code: Int32
        let reason: String
        do {
            let result = try await cancelWhenGracefulShutdown {
                try await Subprocess.run(
                    executable,
                    arguments: arguments,
                    platformOptions: platformOptions,
                    input: .none,
                    output: .currentStandardOutput,
                    error: .currentStandardError
                ) { execution in
                    logger.notice(
                        "server process started",
                        metadata: [LogKey.childPid: "\(execution.processIdentifier.value)", LogKey.childCommand: "\(executableName)"])
                }
            }
            switch result.terminationStatus {
            case .exited(let status):
                code = status
                reason = "server process exited with status \(status)"
            case .signaled(let signal):
                code = 128 + signal
                reason = "server process killed by signal \(signal)"
            }
        } catch {
            code = 127
            reason = "server process could not be started: \(error)"
            logger.error("cannot start server process", metadata: [LogKey.childCommand: "\(executableName)", LogKey.error: "\(error)"])
        }
        exitCodeBox.withLock { $0 = code }
        if Task.isShuttingDownGracefully || Task.isCancelled {
            // Graceful: the registration deleted the node before the child was signalled.
            // Cancelled: the registration is being cancelled too and deletes the node itself.
            logger.notice("server process stopped", metadata: [LogKey.childExitCode: "\(code)", LogKey.reason: "\(reason)"])
        } else {
            coordinator.serverExited(reason: reason, at: .now)
            await settle()
            logger.notice("server process gone; agent exits with its status", metadata: [LogKey.childExitCode: "\(code)", LogKey.reason: "\(reason)"])
        }
    }
}
