import ArgumentParser
import MusterBase
import ChatProtocol
import Logging
import NIOPosix
import ServiceLifecycle
import SystemLimits

/// `chat-server`: the demo chat server (line protocol) or, with `--echo`, a raw echo backend.
@main
struct ChatServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-server",
        abstract: "A small chat server speaking a line protocol, or a raw echo server with --echo.",
        discussion: """
            Commands (one per line, LF or CRLF): NICK name, SAY text, WHO, WHERE, PING [token], QUIT.
            On connect the server sends HELLO <name>. SIGTERM or SIGINT stops it gracefully.
            """
    )

    @Option(name: .long, help: "Address to listen on, host:port (port 0 picks a free one).")
    var listen: String = "127.0.0.1:6000"

    @Option(name: .long, help: "This server's name, sent in the greeting and in answer to WHERE.")
    var name: String

    @Flag(name: .long, help: "Echo raw bytes back (no greeting, no protocol): the benchmark backend.")
    var echo = false

    @Option(name: .long, help: "Longest accepted line in bytes; a longer line gets an error and the connection is closed.")
    var maxLineLength = ChatServerConfiguration.defaultMaxLineLength

    @Option(name: .long, help: "Listen backlog.")
    var backlog = ChatServerConfiguration.defaultBacklog

    @Flag(name: .long, help: "Every connection starts with a PROXY protocol header (v1 or v2), as the balancer's proxy_protocol on sends; the greeting names the client it carries.")
    var proxyProtocol = false

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    /// `HOST:PORT` (or `[v6]:PORT`), an IP address to bind, port 0 for any free one: the
    /// balancer's rule for what it binds.
    static func listenAddress(_ text: String) throws -> Endpoint {
        do { return try Endpoint.parse(text, .bind(defaultHost: "127.0.0.1")) } catch {
            throw ValidationError("bad --listen: \(error)")
        }
    }

    func validate() throws {
        _ = try Self.listenAddress(self.listen)
        guard !self.name.isEmpty, self.name.utf8.count <= 64,
            self.name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F })
        else {
            throw ValidationError("--name must be 1-64 characters with no spaces or control characters, got '\(self.name)'")
        }
        guard (16...1_048_576).contains(self.maxLineLength) else {
            throw ValidationError("--max-line-length must be between 16 and 1048576, got \(self.maxLineLength)")
        }
        guard self.backlog > 0 else {
            throw ValidationError("--backlog must be positive, got \(self.backlog)")
        }
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical; got '\(self.logLevel)'")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: self.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "chat-server")
        let limit = OpenFileLimit.raise()
        logger.info("open files limit", metadata: [LogKey.limitSoft: "\(limit.soft)", LogKey.limitHard: "\(limit.hard)"])

        let address = try Self.listenAddress(self.listen)
        var configuration = ChatServerConfiguration(
                host: address.host,
                port: address.port,
                serverName: self.name,
                mode: self.echo ? .echo : .chat,
                maxLineLength: self.maxLineLength,
                backlog: self.backlog
            )
        configuration.proxyProtocol = self.proxyProtocol
        let server = ChatServerService(
            configuration: configuration,
            group: MultiThreadedEventLoopGroup.singleton,
            logger: logger
        )
        let group = ServiceGroup(
            services: [server],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        try await group.run()
    }
}
