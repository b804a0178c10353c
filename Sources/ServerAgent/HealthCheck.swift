import MusterBase
import NIOCore
import NIOPosix
import Registry

/// One kind of health check. Implementations enforce their own timeout, because a check that
/// waits on a NIO future cannot be interrupted by task cancellation.
public protocol HealthCheck: Sendable {
    /// Runs one check; never takes (much) longer than the timeout it was built with.
    func run() async -> CheckOutcome
}

/// Builds the check a configuration asks for.
public enum HealthChecks {
    public static func make(
        _ spec: HealthCheckSpec,
        target: Endpoint,
        timeout: Duration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) -> any HealthCheck {
        switch spec {
        case .tcpConnect:
            TCPConnectCheck(target: target, timeout: timeout, group: group)
        case .lineExchange(let send, let expect):
            LineExchangeCheck(target: target, send: send, expect: expect, timeout: timeout, group: group)
        case .command(let command):
            CommandCheck(command: command, timeout: timeout)
        }
    }
}
