import Balancer
import Logging
import NIOCore
import NIOPosix
import Testing
import TestSupport

/// A `BalancerService` running in-process for a test, with its listener and admin ports.
struct RunningBalancer {
    let service: BalancerService
    let task: Task<Void, Error>
    /// Port of the (first) listener.
    let port: Int
    let adminPort: Int

    static func start(
        _ configuration: BalancerConfiguration, drainTimeout: Duration = .seconds(5)
    ) async throws -> RunningBalancer {
        var logger = Logger(label: "balancer-test")
        logger.logLevel = .warning
        let service = BalancerService(
            configuration: configuration,
            options: .init(adminAddress: "127.0.0.1:0", drainTimeout: drainTimeout, eventLoopThreads: 2),
            logger: logger)
        let task = Task { try await service.run() }
        await service.waitUntilStarted()
        let listeners = await service.listenerAddresses()
        guard let first = configuration.servers.first,
            let port = listeners["\(first.listenHost):\(first.listenPort)"]?.port,
            let adminPort = await service.adminAddress()?.port
        else {
            task.cancel()
            _ = try? await task.value
            throw TestFailure("balancer did not start: \(listeners)")
        }
        return RunningBalancer(service: service, task: task, port: port, adminPort: adminPort)
    }

    /// Graceful shutdown, waiting until run() returned.
    func stop() async {
        self.service.triggerGracefulShutdown()
        _ = try? await self.task.value
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// A free loopback port (bound then released; fine for tests that need a fixed port in a file).
func freePort() async throws -> Int {
    try freeLoopbackPort()
}

extension StaticServer {
    static func backend(_ backend: TestBackend, weight: Int = 1, maxFails: Int = 1, failTimeout: Duration = .seconds(10)) -> StaticServer {
        StaticServer(host: "127.0.0.1", port: backend.port, weight: weight, maxFails: maxFails, failTimeout: failTimeout)
    }
}

extension ServerConfiguration {
    static func test(
        upstream: String = "backends", connectTimeout: Duration = .seconds(1), idleTimeout: Duration = .seconds(600),
        halfClose: Bool = true
    ) -> ServerConfiguration {
        ServerConfiguration(
            listenHost: "127.0.0.1", listenPort: 0, proxyPass: upstream, connectTimeout: connectTimeout,
            idleTimeout: idleTimeout, halfClose: halfClose)
    }
}
