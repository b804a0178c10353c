/// The part of a registry member record the pool needs.
///
/// Kept separate from `Registry.MemberRecord` so the pool's logic does not depend on the wire format.
/// Members from the registry come from records that `MemberRecord.decode` accepted, so their host is
/// an IP address or an RFC 1123 name (nothing a resolver would read differently from what is shown)
/// and their weight is already within `MemberLimits.weights`.
public struct DiscoveredMember: Sendable, Equatable {
    public var id: String
    public var host: String
    public var port: Int
    public var weight: Int
    public var draining: Bool
    /// The record's `leaving` mark: the member deregisters on purpose (the reason, e.g. `shutdown`).
    /// It takes no new connections at once, and when its node goes it is removed, never a suspect.
    public var leaving: String?

    public init(id: String, host: String, port: Int, weight: Int = 1, draining: Bool = false, leaving: String? = nil) {
        self.id = id
        self.host = host
        self.port = port
        self.weight = weight
        self.draining = draining
        self.leaving = leaving
    }
}
