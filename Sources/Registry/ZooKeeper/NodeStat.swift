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
