/// What a member is doing, as the admin endpoint, `balancer members` and the `state` label of
/// `/metrics` show it. The raw value is that text, written here only.
public enum MemberState: String, Sendable, CaseIterable {
    case up
    /// `down` on its `server` line: never used.
    case down
    /// Its record says draining, or it left the configuration or the registry: no new connections,
    /// open ones continue.
    case draining
    /// A `backup` server, used only when no primary is eligible.
    case backup
    /// Passive health took it out (`max_fails` within `fail_timeout`).
    case unavailable
    /// Its record says it deregisters: no new connections, removed when its node goes.
    case leaving
    /// Its registration was lost, kept in service under the panic threshold.
    case suspect
    /// Held out for flapping (flap damping).
    case damped
    /// Its weight is ramping up after it joined or came back.
    case slowStart = "slow_start"
}
