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

extension TestScene {
    /// A client of `zk` with `logger`, closed at the end (closing it earlier is fine).
    func client(of zk: ZooKeeperServer, logger: Logger) async throws -> ZooKeeperClient {
        let client = try await zk.client(logger: logger)
        self.onExit { await client.close() }
        return client
    }

    /// ``TestBackend/register(under:client:weight:leaveGrace:logger:)``, its task cancelled (and
    /// the node deleted) at the end, before anything made earlier is taken down.
    func register(
        _ backend: TestBackend, under service: String, client: ZooKeeperClient, weight: Int = 1, logger: Logger
    ) -> (Registration, Task<Void, Never>) {
        let (registration, task) = backend.register(under: service, client: client, weight: weight, logger: logger)
        self.onExit {
            task.cancel()
            await task.value
        }
        return (registration, task)
    }
}
