import MusterBase
import Registry

/// Everything the agent needs to run, validated. Built from ``AgentOptions``.
public struct AgentConfiguration: Sendable, Equatable {
    public var zookeeper: String
    /// The service; the member's node is `<service>/members/<memberID>`.
    public var service: ServicePath
    /// The service path as given (`--path`).
    public var servicePath: String { service.node }
    /// Where member nodes live: `<service>/members` (the layout balancers watch).
    public var membersPath: String { service.members }
    /// This member's znode.
    public var nodePath: String { service.member(memberID) }
    /// Where health checks go.
    public var server: Endpoint
    /// What the balancer dials (published in the record).
    public var advertise: Endpoint
    public var memberID: String
    public var weight: Int
    public var metadata: [String: String]
    public var sessionTimeout: Duration
    public var authFile: String?
    public var check: HealthCheckSpec
    public var interval: Duration
    public var timeout: Duration
    public var rise: Int
    public var fall: Int
    public var drainSignal: DrainSignal?
    /// Supervisor mode: how long the child gets between SIGTERM and SIGKILL.
    public var stopTimeout: Duration
    /// `--leave-grace`: a deregistration writes `leaving` into the record this long before the delete.
    public var leaveGrace: Duration
    /// Supervisor mode when non-empty: executable and arguments of the server to run.
    public var command: [String]

    /// Upper bounds: the weight's is the record format's; rise/fall's keeps typos (1e6 checks) out.
    static let maximumRiseFall = 1_000

    public init(_ options: AgentOptions) throws(AgentConfigurationError) {
        zookeeper = options.zookeeper.trimmingWhitespace()
        guard !zookeeper.isEmpty, !zookeeper.contains(where: \.isWhitespace) else {
            throw AgentConfigurationError(flag: "--zookeeper", problem: "expected HOST:PORT[,HOST:PORT...][/chroot], got '\(options.zookeeper)'")
        }
        do {
            _ = try ZooKeeperConfiguration(connectString: zookeeper).parsed()
        } catch {
            throw AgentConfigurationError(flag: "--zookeeper", problem: error.description)
        }
        service = try Self.validatedPath(options.path)

        guard let serverText = options.server else {
            throw AgentConfigurationError(flag: "--server", problem: "missing; give the ChatServer's HOST:PORT to health-check")
        }
        do { server = try Endpoint.parse(serverText) } catch {
            throw AgentConfigurationError(flag: "--server", problem: error.description)
        }
        if let advertiseText = options.advertise {
            do { advertise = try Endpoint.parse(advertiseText) } catch {
                throw AgentConfigurationError(flag: "--advertise", problem: error.description)
            }
        } else {
            advertise = server
        }
        memberID = options.id ?? Self.defaultMemberID(for: advertise)
        try Self.validateMemberID(memberID)

        guard MemberLimits.weights.contains(options.weight) else {
            throw AgentConfigurationError(
                flag: "--weight",
                problem: "must be from \(MemberLimits.weights.lowerBound) to \(MemberLimits.weights.upperBound), got \(options.weight)")
        }
        weight = options.weight

        var metadata: [String: String] = [:]
        for entry in options.meta {
            guard let equals = entry.firstIndex(of: "=") else {
                throw AgentConfigurationError(flag: "--meta", problem: "expected key=value, got '\(entry)'")
            }
            let key = String(entry[..<equals])
            let value = String(entry[entry.index(after: equals)...])
            guard !key.isEmpty, !key.contains(where: \.isWhitespace) else {
                throw AgentConfigurationError(flag: "--meta", problem: "key must be non-empty without spaces, got '\(entry)'")
            }
            guard metadata[key] == nil else {
                throw AgentConfigurationError(flag: "--meta", problem: "key '\(key)' given twice")
            }
            metadata[key] = value
        }
        self.metadata = metadata
        // The record format has its own limits (metadata entries, host length); check them now
        // rather than have the registration refuse the record later.
        do {
            try MemberRecord(id: memberID, host: advertise.host, port: advertise.port, weight: weight, metadata: metadata).validate()
        } catch {
            throw AgentConfigurationError(flag: options.meta.isEmpty ? "--advertise" : "--meta", problem: "the member record would be invalid: \(error)")
        }

        sessionTimeout = try Self.positiveDuration(options.sessionTimeout, flag: "--session-timeout")
        interval = try Self.positiveDuration(options.interval, flag: "--interval")
        timeout = try Self.positiveDuration(options.timeout, flag: "--timeout")
        stopTimeout = try Self.positiveDuration(options.stopTimeout, flag: "--stop-timeout")
        do { leaveGrace = try DurationSyntax.parse(options.leaveGrace) } catch {
            throw AgentConfigurationError(flag: "--leave-grace", problem: error.description)
        }
        guard leaveGrace <= .seconds(60) else {
            throw AgentConfigurationError(flag: "--leave-grace", problem: "at most 60s (balancers only need their watch to fire)")
        }
        guard timeout <= interval else {
            throw AgentConfigurationError(
                flag: "--timeout",
                problem: "\(DurationSyntax.format(timeout)) is longer than --interval \(DurationSyntax.format(interval)); a check must finish before the next one is due"
            )
        }

        guard (1...Self.maximumRiseFall).contains(options.rise) else {
            throw AgentConfigurationError(flag: "--rise", problem: "must be from 1 to \(Self.maximumRiseFall), got \(options.rise)")
        }
        guard (1...Self.maximumRiseFall).contains(options.fall) else {
            throw AgentConfigurationError(flag: "--fall", problem: "must be from 1 to \(Self.maximumRiseFall), got \(options.fall)")
        }
        rise = options.rise
        fall = options.fall

        if let authFile = options.authFile, authFile.isEmpty {
            throw AgentConfigurationError(flag: "--auth-file", problem: "empty path")
        }
        authFile = options.authFile

        check = try HealthCheckSpec(options.check)

        guard let drain = DrainSignal.parse(options.drainSignal) else {
            let names = DrainSignal.allCases.map(\.rawValue).joined(separator: ", ")
            throw AgentConfigurationError(flag: "--drain-signal", problem: "unsupported signal '\(options.drainSignal)'; use one of \(names) or none")
        }
        drainSignal = drain

        if let executable = options.command.first, executable.isEmpty {
            throw AgentConfigurationError(flag: "--", problem: "empty command")
        }
        command = options.command
    }

    /// The member id used when `--id` is not given: `127.0.0.1-6000` for `127.0.0.1:6000`.
    public static func defaultMemberID(for address: Endpoint) -> String {
        // The id is a znode name of MemberLimits' id characters; anything else in a host becomes '_'.
        let host = String(decoding: address.host.utf8.map { MemberLimits.isIDCharacter($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
        return "\(host)-\(address.port)"
    }

    static func validateMemberID(_ id: String) throws(AgentConfigurationError) {
        guard !id.isEmpty else { throw AgentConfigurationError(flag: "--id", problem: "empty") }
        guard id != ".", id != ".." else {
            throw AgentConfigurationError(flag: "--id", problem: "'\(id)' is not a valid znode name")
        }
        guard !id.contains("/") else {
            throw AgentConfigurationError(flag: "--id", problem: "'\(id)' contains '/'; the id is a single znode name")
        }
        guard MemberLimits.isValidID(id) else {
            throw AgentConfigurationError(
                flag: "--id",
                problem: "'\(id)' must be \(MemberLimits.idLengths.lowerBound)-\(MemberLimits.idLengths.upperBound) characters of \(MemberLimits.idCharacters)")
        }
    }

    /// The service path by the one rule every part checks (``ServicePath``, which also refuses
    /// the root).
    static func validatedPath(_ path: String) throws(AgentConfigurationError) -> ServicePath {
        do { return try ServicePath(path) } catch {
            throw AgentConfigurationError(flag: "--path", problem: "\(error.description); expected an absolute znode path, e.g. /muster/services/chat")
        }
    }

    static func positiveDuration(_ text: String, flag: String) throws(AgentConfigurationError) -> Duration {
        let duration: Duration
        do { duration = try DurationSyntax.parse(text) } catch {
            throw AgentConfigurationError(flag: flag, problem: error.description)
        }
        guard duration > .zero else { throw AgentConfigurationError(flag: flag, problem: "must be greater than zero") }
        return duration
    }
}
