/// What the admin endpoint shows about a group's registry feed.
struct MembershipState: Sendable, Equatable {
    /// True while the feed serves the last known set because ZooKeeper is unreachable.
    var stale = false
    /// Whether a ZooKeeper feed is configured and has delivered at least one snapshot.
    var hasSnapshot = false
    /// Last error of the feed (bad auth file, bad connect string), if any.
    var error: String?
}
