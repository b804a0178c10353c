import ArgumentParser

/// `chat-bench`: a load generator for echo servers and the proxies in front of them.
@main
struct ChatBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-bench",
        abstract: "Load generator for a chat-server --echo backend, directly or through a TCP proxy (loopback only).",
        discussion: """
            Every mode is bounded by --duration and by its counts, refuses targets that are not \
            loopback addresses, prints a table, or JSON with --json.
            """,
        subcommands: [RTTCommand.self, ConnectCommand.self, HoldCommand.self, BulkCommand.self]
    )
}
