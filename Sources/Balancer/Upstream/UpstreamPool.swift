import Synchronization

/// The live member set of one upstream group and its balancing state. Thread-safe.
public final class UpstreamPool: Sendable {
    private let state: Mutex<[DiscoveredMember]>
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(configuration: UpstreamConfiguration, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.state = Mutex([])
        self.now = now
    }

    public func pick(clientAddress: String?, excluding: Set<MemberID>) -> Pick? { nil }
    public func connectSucceeded(_ id: MemberID) {}
    public func connectFailed(_ id: MemberID, reason: String) {}
    public func connectionClosed(_ id: MemberID) {}
    public func applyMembership(_ members: [DiscoveredMember], stale: Bool) {}
    public func reconfigure(_ configuration: UpstreamConfiguration) {}
    public func status() -> [MemberStatus] { [] }
}
