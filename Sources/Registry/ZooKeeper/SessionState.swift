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
