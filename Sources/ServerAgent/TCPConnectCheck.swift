import MusterBase
import NIOCore
import NIOPosix
import Registry

/// Healthy when a TCP connection to the target opens within the timeout. Cheap, but a hung server
/// whose kernel still completes handshakes passes it; use ``LineExchangeCheck`` for that.
public struct TCPConnectCheck: HealthCheck {
    public var target: Endpoint
    public var timeout: Duration
    let group: any EventLoopGroup

    public init(target: Endpoint, timeout: Duration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.target = target
        self.timeout = timeout
        self.group = group
    }

    public func run() async -> CheckOutcome {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
        do {
            let channel = try await bootstrap.connect(host: target.host, port: target.port).get()
            try? await channel.close()
            return .healthy
        } catch {
            return .unhealthy("connect to \(target) failed: \(CheckErrorText.describe(error, timeout: timeout))")
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
