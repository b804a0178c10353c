import MusterBase
import NIOCore
import NIOPosix

/// Which health check the agent runs against its server: each kind's flags as typed, its rules and
/// its check in one place, so a new kind is this file, its check's file and its flags' declarations
/// (`HealthCheckOptions` in the CLI).
public enum HealthCheckSpec: Sendable, Equatable {
    /// The check flags as typed (`--check-send`, `--check-expect`, `--check-command`), before the
    /// rules below; ``AgentOptions/check`` holds them.
    public struct Flags: Sendable, Equatable {
        public var send: String? = nil
        public var expect: String? = nil
        public var command: String? = nil

        public init() {}
    }

    /// Healthy when a TCP connection can be opened (the default).
    case tcpConnect
    /// Connects, sends `send` plus a newline (nothing when `send` is nil), and is healthy when the
    /// reply starts with `expect`. Catches a hung server, which still completes TCP handshakes
    /// from the kernel's accept backlog.
    case lineExchange(send: String?, expect: String)
    /// Runs `/bin/sh -c command`; healthy on exit status 0. Killed (with its process group) on timeout.
    case command(String)

    /// Short human-readable form for the start-up log line.
    public var summary: String {
        switch self {
        case .tcpConnect: "tcp-connect"
        case .lineExchange(let send, let expect):
            "line-exchange(send: \(send.map { "'\($0)'" } ?? "nothing"), expect prefix: '\(expect)')"
        case .command(let command): "command('\(command)')"
        }
    }

    /// The check the flags ask for (`--check-command`, `--check-send`/`--check-expect`, else a TCP
    /// connect), with each kind's rules.
    init(_ flags: Flags) throws(AgentConfigurationError) {
        if let command = flags.command {
            guard flags.send == nil, flags.expect == nil else {
                throw AgentConfigurationError(flag: "--check-command", problem: "cannot be combined with --check-send/--check-expect; choose one check")
            }
            guard !command.trimmingWhitespace().isEmpty else {
                throw AgentConfigurationError(flag: "--check-command", problem: "empty command")
            }
            self = .command(command)
            return
        }
        if let send = flags.send {
            guard flags.expect != nil else {
                throw AgentConfigurationError(flag: "--check-send", problem: "needs --check-expect PREFIX (what a healthy reply starts with)")
            }
            guard !send.contains("\n"), !send.contains("\r") else {
                throw AgentConfigurationError(flag: "--check-send", problem: "must be a single line; the newline is added by the agent")
            }
        }
        if let expect = flags.expect {
            guard !expect.isEmpty else {
                throw AgentConfigurationError(flag: "--check-expect", problem: "empty prefix would accept any reply")
            }
            guard !expect.contains("\n") else {
                throw AgentConfigurationError(flag: "--check-expect", problem: "must not contain a newline")
            }
            self = .lineExchange(send: flags.send, expect: expect)
            return
        }
        self = .tcpConnect
    }

    /// The check that runs this spec against `target`.
    public func makeCheck(
        target: Endpoint,
        timeout: Duration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) -> any HealthCheck {
        switch self {
        case .tcpConnect:
            TCPConnectCheck(target: target, timeout: timeout, group: group)
        case .lineExchange(let send, let expect):
            LineExchangeCheck(target: target, send: send, expect: expect, timeout: timeout, group: group)
        case .command(let command):
            CommandCheck(command: command, timeout: timeout)
        }
    }
}
