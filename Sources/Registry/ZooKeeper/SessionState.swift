/// The state of a ``ZooKeeperClient``'s session, as its owner sees it.
public enum SessionState: Sendable, Hashable, CustomStringConvertible {
    /// Not connected to any server; ephemerals and watches of the current session survive if it
    /// reconnects within the session timeout.
    case connecting
    /// Connected; requests are served.
    case connected
    /// The session expired: its ephemeral nodes and watches are gone. The client opens a new
    /// session by itself, so `.connecting` and `.connected` follow.
    case expired
    /// The server rejected the digest credentials. Terminal until the client is recreated.
    case authFailed
    /// Closed by its owner. Terminal.
    case closed

    public var description: String {
        switch self {
        case .connecting: "connecting"
        case .connected: "connected"
        case .expired: "expired"
        case .authFailed: "auth-failed"
        case .closed: "closed"
        }
    }
}

/// A session state with the id of the session it belongs to, as ``ZooKeeperClient/sessions()``
/// yields it.
public struct Session: Sendable, Hashable {
    public var state: SessionState
    /// The current session's id (0 before the first session is established, and once closed).
    public var id: Int64

    public init(state: SessionState, id: Int64) {
        self.state = state
        self.id = id
    }
}

/// What a one-shot watch reports.
public enum WatchEvent: Sendable, Hashable {
    case created(path: String)
    case deleted(path: String)
    case dataChanged(path: String)
    case childrenChanged(path: String)
    /// The watch will not fire: its session expired or the client closed.
    case sessionLost
}

/// A znode's metadata (ZooKeeper's `Stat`).
public struct NodeStat: Sendable, Hashable {
    public var czxid: Int64
    public var mzxid: Int64
    public var version: Int32
    public var cversion: Int32
    /// The session id owning an ephemeral node, 0 for persistent nodes.
    public var ephemeralOwner: Int64
    public var dataLength: Int32
    public var numChildren: Int32

    public init(czxid: Int64 = 0, mzxid: Int64 = 0, version: Int32 = 0, cversion: Int32 = 0,
                ephemeralOwner: Int64 = 0, dataLength: Int32 = 0, numChildren: Int32 = 0) {
        self.czxid = czxid
        self.mzxid = mzxid
        self.version = version
        self.cversion = cversion
        self.ephemeralOwner = ephemeralOwner
        self.dataLength = dataLength
        self.numChildren = numChildren
    }
}

/// How a node is created.
public enum CreateMode: Sendable, Hashable {
    case persistent
    case ephemeral
    case persistentSequential
    case ephemeralSequential
}

/// A node's access control list. Debian's C client has no TLS or SASL, so digest is the scheme.
public enum NodeACL: Sendable, Hashable {
    /// world:anyone with every permission.
    case open
    /// Every permission for the authenticated identity that creates the node (needs digest auth).
    case creatorAll
    /// Every permission for the creator, read for everyone (the balancer only reads).
    case creatorAllWorldRead
    /// world:anyone read only.
    case worldRead
    /// An explicit list, e.g. digest identities with their permissions.
    case entries([ACLEntry])
}
