import ChatProtocol
import Logging
import NIOCore
import ServiceLifecycle
import NIOConcurrencyHelpers
import Testing
import TestSupport

/// The server as a swift-service-lifecycle `Service`: graceful shutdown says goodbye and returns.
@Suite struct ChatServerServiceTests {
    @Test func gracefulShutdownClosesClientsAndEndsRun() async throws {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let bound = NIOLockedValueBox<SocketAddress?>(nil)
        let service = ChatServerService(
            configuration: ChatServerConfiguration(host: "127.0.0.1", port: 0, serverName: "svc"),
            logger: logger,
            onListening: { address in bound.withLockedValue { $0 = address } }
        )
        let group = ServiceGroup(services: [service], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }

            // Generous: binding took over 5 s once on a loaded 2-core machine.
            #expect(await waitUntil(timeout: .seconds(30)) { bound.withLockedValue { $0 } != nil })
            let listening = try #require(bound.withLockedValue { $0 })
            let client = try await LineClient.connect(to: listening)
            #expect(await client.waitForLines(1) == ["HELLO svc"])

            await group.triggerGracefulShutdown()
            // run() returning is the proof that shutdown completed.
            try await tasks.waitForAll()
            #expect(await client.waitUntil { $0.isClosed })
            #expect(client.lines == ["HELLO svc", "BYE server shutting down"])
        }
    }
}
