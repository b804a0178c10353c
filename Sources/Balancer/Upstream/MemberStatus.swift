/// One member as the admin endpoint shows it.
public struct MemberStatus: Codable, Sendable, Equatable {
    public var id: String
    /// `host:port`.
    public var address: String
    public var weight: Int
    /// `"static"` or `"zookeeper"`.
    public var source: String
    /// A `MemberState`'s text. Kept a string on the wire so a `balancer members` older than the
    /// balancer it asks still reads a state it does not know.
    public var state: String
    /// Connections currently open (or being opened) to this member; nil (absent from the JSON)
    /// when read from the registry, where no balancer counts.
    public var active: Int?
    /// Connections ever picked for this member; nil when read from the registry.
    public var total: Int?
    /// Failed connects ever recorded for this member; nil when read from the registry.
    public var failures: Int?
    /// When the last failure happened, ISO 8601 (UTC).
    public var lastFailure: String?
    public var lastFailureReason: String?
    /// Why the member is in its state, for `leaving`, `suspect`, `damped` and `slow_start`, e.g.
    /// `registration lost 12s ago; kept: 1 of 4 registered, panic threshold 50%`.
    public var reason: String?
    /// Since when it is in that state, ISO 8601 (UTC), where the balancer knows.
    public var since: String?
    /// The record's metadata, when read from the registry (`balancer members --zookeeper`).
    public var metadata: [String: String]?

    public init(
        id: String,
        address: String,
        weight: Int,
        source: String,
        state: String,
        active: Int?,
        total: Int?,
        failures: Int?,
        lastFailure: String? = nil,
        lastFailureReason: String? = nil,
        reason: String? = nil,
        since: String? = nil,
        metadata: [String: String]? = nil
    ) {
        self.id = id
        self.address = address
        self.weight = weight
        self.source = source
        self.state = state
        self.active = active
        self.total = total
        self.failures = failures
        self.lastFailure = lastFailure
        self.lastFailureReason = lastFailureReason
        self.reason = reason
        self.since = since
        self.metadata = metadata
    }
}
