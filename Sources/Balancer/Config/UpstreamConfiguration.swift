/// One `upstream NAME { ... }` block: a group of members and how to choose among them.
public struct UpstreamConfiguration: Sendable, Equatable {
    public var name: String
    public var method: BalancingMethod
    /// Static `server` lines, in file order (the order matters for round robin, as in nginx).
    public var servers: [StaticServer]
    /// Live membership; a group may mix static and discovered members.
    public var zookeeper: ZooKeeperSource?
    /// What `balancer check` warns about (a setting that is accepted but has no effect), with
    /// file, line and column.
    public var warnings: [ConfigError] = []

    public init(
        name: String,
        method: BalancingMethod = .roundRobin,
        servers: [StaticServer] = [],
        zookeeper: ZooKeeperSource? = nil
    ) {
        self.name = name
        self.method = method
        self.servers = servers
        self.zookeeper = zookeeper
    }
}
