/// What `GET /members` returns and `balancer members` prints.
public struct MembersReport: Codable, Sendable, Equatable {
    /// Made only by the balancer that reports it (the memberwise init, internal); elsewhere decoded.
    public struct Listener: Codable, Sendable, Equatable {
        /// The bound address ("0.0.0.0:8000").
        public var address: String
        public var upstream: String
    }

    public struct Upstream: Codable, Sendable, Equatable {
        public var name: String
        /// The balancing method; nil (absent) when read from the registry, where no balancer picks.
        public var method: String?
        /// "HOSTS PATH" of the ZooKeeper source, if the group has one.
        public var zookeeper: String?
        /// True while the group serves the last known members because ZooKeeper is unreachable.
        public var stale: Bool
        /// Why the ZooKeeper feed is not running (bad auth file, bad connect string), if it is not.
        public var membershipError: String?
        public var members: [MemberStatus]
        /// True while lost members are kept as suspects under the panic threshold (nil from a
        /// balancer that predates it).
        public var panic: Bool?

        public init(
            name: String, method: String?, zookeeper: String?, stale: Bool, membershipError: String?,
            members: [MemberStatus], panic: Bool? = nil
        ) {
            self.name = name
            self.method = method
            self.zookeeper = zookeeper
            self.stale = stale
            self.membershipError = membershipError
            self.members = members
            self.panic = panic
        }
    }

    public var listeners: [Listener]
    public var upstreams: [Upstream]

    public init(listeners: [Listener], upstreams: [Upstream]) {
        self.listeners = listeners
        self.upstreams = upstreams
    }
}
