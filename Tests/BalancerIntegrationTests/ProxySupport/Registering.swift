import Logging
import MusterBase
import Registry
import TestSupport

extension Logger {
    /// A logger that keeps warnings and worse: what membership tests let through.
    static func quiet(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return logger
    }
}

extension TestBackend {
    /// Registers this backend (id: its name) under `service`'s members through `client`, in a task
    /// that runs until it is cancelled.
    func register(
        under service: String, client: ZooKeeperClient, weight: Int = 1, leaveGrace: Duration = .zero, logger: Logger
    ) -> (Registration, Task<Void, Never>) {
        let registration = Registration(
            client: client, path: ServicePath.members(of: service),
            record: MemberRecord(id: name, host: "127.0.0.1", port: port, weight: weight),
            leaveGrace: leaveGrace, logger: logger)
        return (registration, Task { _ = try? await registration.run() })
    }
}
