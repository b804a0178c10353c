import ChatProtocol
import Logging
import NIOCore
import NIOPosix
import Testing
import TestSupport

/// `chat-server --proxy-protocol` over real sockets: the greeting waits for the header and names
/// the client it carries; a connection without a valid header is closed unanswered.
@Suite struct ChatServerProxyProtocolTests {
    /// A listener with `--proxy-protocol` on a free port, shut down after `body`, whether it
    /// returned or threw.
    private func withListener(_ body: (ChatListener) async throws -> Void) async throws {
        var configuration = ChatServerConfiguration(host: "127.0.0.1", port: 0, serverName: "pp", maxLineLength: 64)
        configuration.proxyProtocol = true
        let listener = try await ChatListener.bind(
            configuration: configuration, group: MultiThreadedEventLoopGroup.singleton,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await withCleanup({ try await body(listener) }, cleanup: { await listener.shutdown() })
    }

    @Test("v1 header, split, with a command in the same segment: the greeting names the PROXY client, then the command is answered")
    func v1() async throws {
        try await self.withListener { listener in
            let client = try await LineClient.connect(to: listener.localAddress)
            try await client.send("PROXY TCP4 192.0.2.1 19")
            try await client.send("2.0.2.2 1234 6000\r\nPING x\n")
            #expect(await client.waitForLines(2) == ["HELLO pp 192.0.2.1:1234", "PONG x"])
            await client.close()
        }
    }

    @Test("v2 header over IPv6, and v2 LOCAL (a health check: the plain greeting)")
    func v2() async throws {
        try await self.withListener { listener in
            let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
            let block: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [7] + [UInt8](repeating: 0, count: 15) + [1]
                + [0x30, 0x39, 0x17, 0x70]
            let client = try await LineClient.connect(to: listener.localAddress)
            try await client.send(bytes: signature + [0x21, 0x21, 0x00, UInt8(block.count)] + block)
            #expect(await client.waitForLines(1) == ["HELLO pp [2001:db8::7]:12345"])
            let check = try await LineClient.connect(to: listener.localAddress)
            try await check.send(bytes: signature + [0x20, 0x00, 0x00, 0x00])
            #expect(await check.waitForLines(1) == ["HELLO pp"])
            await client.close()
            await check.close()
        }
    }

    @Test("no header (a plain chat client) or a broken one: closed without a greeting")
    func refused() async throws {
        try await self.withListener { listener in
            let plain = try await LineClient.connect(to: listener.localAddress)
            try await plain.send("PING\n")
            #expect(await plain.waitUntil { $0.isClosed })
            #expect(plain.bytes.isEmpty)
        }
    }
}
