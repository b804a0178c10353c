/// The agent's flags as typed, before validation. The CLI fills this in; ``AgentConfiguration``
/// validates it, so the rules are tested without a process.
public struct AgentOptions: Sendable, Equatable {
    public var zookeeper = "127.0.0.1:2181"
    public var path = "/muster/services/chat"
    public var server: String? = nil
    public var advertise: String? = nil
    public var id: String? = nil
    public var weight = 1
    public var meta: [String] = []
    public var sessionTimeout = "10s"
    /// Path of a file holding `user:password`; the secret itself is never a flag.
    public var authFile: String? = nil
    /// Which check runs: its flags are ``HealthCheckSpec``'s, with its rules.
    public var check = HealthCheckSpec.Flags()
    public var interval = "1s"
    public var timeout = "500ms"
    public var rise = 2
    public var fall = 2
    public var drainSignal = "USR1"
    public var stopTimeout = "10s"
    /// How long the `leaving` record stays before the node is deleted; 0 deletes at once.
    public var leaveGrace = "500ms"
    /// Supervisor mode: the server command line after `--`.
    public var command: [String] = []

    public init() {}
}
