/// One member as the admin endpoint shows it.
public struct MemberStatus: Codable, Sendable, Equatable {
    public var id: String
    /// `host:port`.
    public var address: String
    public var weight: Int
    /// `"static"` or `"zookeeper"`.
    public var source: String
    /// `"up"`, `"down"`, `"draining"`, `"backup"` or `"unavailable"` (passive health tripped).
    public var state: String
    /// Connections currently open (or being opened) to this member.
    public var active: Int
    /// Connections ever picked for this member.
    public var total: Int
    /// Failed connects ever recorded for this member.
    public var failures: Int
    /// When the last failure happened, ISO 8601 (UTC).
    public var lastFailure: String?
    public var lastFailureReason: String?

    public init(
        id: String,
        address: String,
        weight: Int,
        source: String,
        state: String,
        active: Int,
        total: Int,
        failures: Int,
        lastFailure: String? = nil,
        lastFailureReason: String? = nil
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
    }
}
