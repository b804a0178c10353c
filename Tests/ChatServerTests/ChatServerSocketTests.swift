import ChatProtocol
import Logging
import NIOCore
import NIOPosix
import Testing
import TestSupport

/// Runs the real server on 127.0.0.1 with a free port and talks to it over TCP.
@Suite struct ChatServerSocketTests {
    private func start(_ mode: ChatServerConfiguration.Mode) async throws -> ChatListener {
        try await ChatListener.bind(
            configuration: ChatServerConfiguration(host: "127.0.0.1", port: 0, serverName: "test-server", mode: mode, maxLineLength: 64),
            group: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    @Test func chatProtocolOverARealSocket() async throws {
        let listener = try await self.start(.chat)
        let alice = try await LineClient.connect(to: listener.localAddress)
        let bob = try await LineClient.connect(to: listener.localAddress)
        #expect(await alice.waitForLines(1) == ["HELLO test-server"])
        #expect(await bob.waitForLines(1) == ["HELLO test-server"])

        try await alice.send("NICK alice\n")
        try await bob.send("NICK bob\r\n")
        #expect(await alice.waitForLines(2).last == "OK NICK alice")
        #expect(await bob.waitForLines(2).last == "OK NICK bob")

        try await bob.send("SAY hello there\n")
        #expect(await alice.waitForLines(3).last == "MSG bob hello there")
        #expect(await bob.waitForLines(3).last == "MSG bob hello there")

        // A command split across TCP segments.
        try await alice.send("WH")
        try await alice.send("O\nWHERE\nPI")
        try await alice.send("NG\n")
        #expect(Array(await alice.waitForLines(6).suffix(3)) == ["WHO 2 alice bob", "WHERE test-server", "PONG"])

        try await bob.send("QUIT\n")
        #expect(await bob.waitForLines(4).last == "BYE")
        #expect(await bob.waitUntil { $0.isClosed })
        #expect(await waitUntil { listener.connectionCount == 1 })

        await alice.close()
        await listener.shutdown()
    }

    @Test func overlongLineIsAnsweredAndClosed() async throws {
        let listener = try await self.start(.chat)
        let client = try await LineClient.connect(to: listener.localAddress)
        try await client.send(String(repeating: "x", count: 100))
        #expect(await client.waitForLines(2) == ["HELLO test-server", "ERR line too long (limit 64 bytes), closing"])
        #expect(await client.waitUntil { $0.isClosed })
        await listener.shutdown()
    }

    @Test func echoModeReturnsRawBytesWithoutGreeting() async throws {
        let listener = try await self.start(.echo)
        let client = try await LineClient.connect(to: listener.localAddress)
        let payload: [UInt8] = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try await client.send(bytes: payload)
        #expect(await client.waitUntil { $0.bytes.count >= payload.count })
        #expect(client.bytes == payload)
        await client.close()
        await listener.shutdown()
    }

    @Test func shutdownSaysByeAndClosesEveryConnection() async throws {
        let listener = try await self.start(.chat)
        let client = try await LineClient.connect(to: listener.localAddress)
        #expect(await client.waitForLines(1) == ["HELLO test-server"])
        await listener.shutdown()
        #expect(await client.waitUntil { $0.isClosed })
        #expect(client.lines == ["HELLO test-server", "BYE server shutting down"])
        #expect(listener.connectionCount == 0)
    }
}
