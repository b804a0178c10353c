/// Where a service's members live in ZooKeeper.
///
/// Agents and balancers are both given the *service* path (e.g. `/muster/services/chat`); the
/// members are the children of its `members` node (`/muster/services/chat/members/<id>`), which
/// leaves room beside them for other per-service nodes. This is the one place that says so.
public enum ServicePath {
    /// The members path of a service path.
    public static func members(of servicePath: String) -> String {
        servicePath == "/" ? "/members" : servicePath + "/members"
    }

    /// The node of one member.
    public static func member(_ id: String, of servicePath: String) -> String {
        members(of: servicePath) + "/" + id
    }
}
