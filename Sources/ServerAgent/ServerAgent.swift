import Logging
import MusterBase
import Registry
import ServiceLifecycle
import UnixSignals

/// The whole agent: health checks, registration, drain signal and (in supervisor mode) the child
/// process, run as one `ServiceGroup` that SIGTERM/SIGINT shut down gracefully.
public struct ServerAgent: Sendable {
    public var configuration: AgentConfiguration
    public var logger: Logger
    /// Digest credentials for ZooKeeper, loaded by the caller from a file (never from argv).
    public var credentials: DigestCredentials?
    /// Signals that start the graceful shutdown (delete the node, then exit).
    public var gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint]

    public init(configuration: AgentConfiguration, credentials: DigestCredentials?, logger: Logger) {
        self.configuration = configuration
        self.credentials = credentials
        self.logger = logger
    }

    /// The record this agent publishes.
    public var memberRecord: MemberRecord {
        MemberRecord(
            id: configuration.memberID,
            host: configuration.advertise.host,
            port: configuration.advertise.port,
            weight: configuration.weight,
            draining: false,
            metadata: configuration.metadata
        )
    }

    /// Runs until SIGTERM/SIGINT (or, in supervisor mode, until the child exits); returns the exit code.
    public func run() async throws -> Int32 {
        let zooKeeper = ZooKeeperConfiguration(
            connectString: configuration.zookeeper,
            sessionTimeout: configuration.sessionTimeout,
            credentials: credentials
        )
        // Throws only for a malformed connection string, which the configuration already rejected.
        let client = try ZooKeeperClient(configuration: zooKeeper, logger: logger)
        let code = await run(client: client)
        await client.close()
        return code
    }

    /// Runs with a client the caller owns (and closes afterwards). Ends on the shutdown signals,
    /// when the supervised child exits, or when the task is cancelled; returns the exit code.
    public func run(client: ZooKeeperClient) async -> Int32 {
        let configuration = self.configuration
        var logger = self.logger
        logger[metadataKey: LogKey.memberID] = "\(configuration.memberID)"

        let record = memberRecord
        // Inactive until `rise` healthy checks. With credentials, only this identity may change the
        // node while everyone (the balancers) may read it.
        let registration = Registration(
            client: client, path: configuration.membersPath, record: record, active: false,
            acl: client.configuration.credentials == nil ? .open : .creatorAllWorldRead,
            leaveGrace: configuration.leaveGrace, logger: logger)
        let coordinator = MemberCoordinator(
            record: record, rise: configuration.rise, fall: configuration.fall,
            registration: registration, logger: logger)

        logger.notice(
            "server-agent starting",
            metadata: [
                LogKey.zkConnect: "\(configuration.zookeeper)",
                LogKey.zkNode: "\(configuration.nodePath)",
                LogKey.zkAuth: "\(client.configuration.credentials == nil ? "none" : "digest")",
                LogKey.checkTarget: "\(configuration.server)",
                LogKey.checkKind: "\(configuration.check.summary)",
                LogKey.checkInterval: "\(DurationSyntax.format(configuration.interval))",
                LogKey.checkTimeout: "\(DurationSyntax.format(configuration.timeout))",
                LogKey.checkRise: "\(configuration.rise)",
                LogKey.checkFall: "\(configuration.fall)",
                LogKey.memberAdvertise: "\(configuration.advertise)",
                LogKey.drainSignal: "\(configuration.drainSignal?.displayName ?? "none")",
            ])

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        var child: ChildProcessService?
        if !configuration.command.isEmpty {
            let settleTimeout = configuration.sessionTimeout
            let supervisor = ChildProcessService(
                command: configuration.command,
                stopTimeout: configuration.stopTimeout,
                coordinator: coordinator,
                logger: logger,
                settle: { _ = await registration.waitUntilSettled(timeout: settleTimeout) }
            )
            child = supervisor
            // First in the group, so it is shut down last: after the node is gone.
            services.append(.init(
                service: supervisor,
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        // A NOAUTH from ZooKeeper ends the registration with an error: shut the group down
        // gracefully (the child, if any, gets SIGTERM) and exit 1.
        services.append(.init(service: registration, failureTerminationBehavior: .gracefullyShutdownGroup))
        services.append(.init(service: SessionStateReporter(client: client, connectString: configuration.zookeeper, logger: logger)))
        if let signal = configuration.drainSignal {
            services.append(.init(service: DrainSignalService(signal: signal, coordinator: coordinator)))
        }
        let check = configuration.check.makeCheck(target: configuration.server, timeout: configuration.timeout)
        services.append(.init(service: HealthCheckService(check: check, interval: configuration.interval, coordinator: coordinator)))

        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: gracefulShutdownSignals,
                logger: logger))

        var failed = false
        do {
            try await group.run()
        } catch let denied as ZooKeeperAuthorizationError {
            // Digest login never fails: wrong credentials surface as NOAUTH on the first write.
            // Retrying cannot help, so stop and let the service manager (or the operator) act.
            logger.critical(
                "server-agent cannot register: not authorized; exiting with status 1",
                metadata: [LogKey.zkNode: "\(configuration.nodePath)", LogKey.error: "\(denied)"])
            return 1
        } catch is CancellationError {
            // Cancelled by the caller: services have already stopped and deleted the node.
        } catch {
            logger.error("server-agent stopped on an error", metadata: [LogKey.error: "\(error)"])
            failed = true
        }
        if let code = child?.exitCode { return code }
        logger.notice("server-agent stopped")
        return failed ? 1 : 0
    }
}
