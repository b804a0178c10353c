import CZooKeeper
import Foundation

// The C boundary's values: every result code, session state, event type, create flag and
// permission bit of the C library is read here, by its C name, and turned into a Swift value, and
// the two values that go the other way (an ACL vector, an errno's text) are made here. No other
// file sees a C integer (the callbacks in CallbackTable.swift hand these values on).

extension ZooKeeperError.Code {
    /// Maps a C result code (`enum ZOO_ERRORS`).
    public init(rawCode: Int32) {
        switch rawCode {
        case ZNONODE.rawValue: self = .noNode
        case ZNODEEXISTS.rawValue: self = .nodeExists
        case ZCONNECTIONLOSS.rawValue: self = .connectionLoss
        case ZSESSIONEXPIRED.rawValue: self = .sessionExpired
        case ZNOAUTH.rawValue: self = .noAuth
        case ZAUTHFAILED.rawValue: self = .authFailed
        case ZBADVERSION.rawValue: self = .badVersion
        case ZNOTEMPTY.rawValue: self = .notEmpty
        case ZNOCHILDRENFOREPHEMERALS.rawValue: self = .noChildrenForEphemerals
        case ZINVALIDACL.rawValue: self = .invalidACL
        case ZOPERATIONTIMEOUT.rawValue: self = .operationTimeout
        case ZBADARGUMENTS.rawValue: self = .badArguments
        case ZINVALIDSTATE.rawValue: self = .invalidState
        case ZCLOSING.rawValue: self = .closing
        case ZMARSHALLINGERROR.rawValue: self = .marshallingError
        case ZSESSIONMOVED.rawValue: self = .sessionMoved
        case ZNOTREADONLY.rawValue: self = .notReadOnly
        case ZSYSTEMERROR.rawValue: self = .systemError
        case ZAPIERROR.rawValue: self = .apiError
        default: self = .other(rawCode)
        }
    }
}

/// The outcome of a C call or completion: success, or the named error.
func outcome(_ rc: Int32) -> ZooKeeperError.Code? {
    rc == ZOK.rawValue ? nil : ZooKeeperError.Code(rawCode: rc)
}

extension SessionMachine.HandleEvent {
    /// A session event of the handle's default watcher; READONLY counts as connected (reads work).
    init(cState: Int32, sessionID: Int64) {
        switch cState {
        case muster_state_connected(), muster_state_readonly(): self = .connected(sessionID: sessionID)
        case muster_state_expired(): self = .expired
        case muster_state_auth_failed(): self = .authFailed
        default: self = .connecting
        }
    }
}

/// Whether a session event ends every watch of the handle (the session is gone).
func endsWatches(cState: Int32) -> Bool {
    cState == muster_state_expired() || cState == muster_state_auth_failed()
}

func isConnected(cState: Int32) -> Bool {
    cState == muster_state_connected()
}

/// What a watcher call means: a node event, the end of the session, or nothing for this watch
/// (the C library also calls every armed watcher with each session event of its handle).
func watchEvent(type: Int32, state: Int32, path: String) -> WatchEvent? {
    switch type {
    case muster_event_created(): .created(path: path)
    case muster_event_deleted(): .deleted(path: path)
    case muster_event_changed(): .dataChanged(path: path)
    case muster_event_child(): .childrenChanged(path: path)
    case muster_event_session(): endsWatches(cState: state) ? .sessionLost : nil
    default: .sessionLost
    }
}

func isSessionEvent(type: Int32) -> Bool {
    type == muster_event_session()
}

extension CreateMode {
    var cFlags: Int32 {
        switch self {
        case .persistent: muster_zoo_persistent()
        case .ephemeral: muster_zoo_ephemeral()
        case .persistentSequential: muster_zoo_sequence()
        case .ephemeralSequential: muster_zoo_ephemeral() | muster_zoo_sequence()
        }
    }
}

extension ACLEntry.Permissions {
    public static let read = Self(rawValue: muster_perm_read())
    public static let write = Self(rawValue: muster_perm_write())
    public static let create = Self(rawValue: muster_perm_create())
    public static let delete = Self(rawValue: muster_perm_delete())
    public static let admin = Self(rawValue: muster_perm_admin())
    public static let all = Self(rawValue: muster_perm_all())
}

extension NodeACL {
    /// The entries this ACL stands for.
    var entries: [ACLEntry] {
        switch self {
        case .open: [.world(.all)]
        case .creatorAll: [ACLEntry(scheme: "auth", id: "", permissions: .all)]
        case .creatorAllWorldRead: [ACLEntry(scheme: "auth", id: "", permissions: .all), .world(.read)]
        case .worldRead: [.world(.read)]
        case .entries(let list): list
        }
    }
}

func describeErrno(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Builds a C ACL vector for the duration of `body` (the C library copies it while marshalling).
func withACL<R>(_ acl: NodeACL, _ body: (UnsafePointer<ACL_vector>) -> R) -> R {
    let entries = acl.entries
    let items = UnsafeMutablePointer<ACL>.allocate(capacity: entries.count)
    var strings: [UnsafeMutablePointer<CChar>?] = []
    for (index, entry) in entries.enumerated() {
        let scheme = strdup(entry.scheme)
        let id = strdup(entry.id)
        strings.append(scheme)
        strings.append(id)
        (items + index).initialize(to: ACL(perms: entry.permissions.rawValue, id: Id(scheme: scheme, id: id)))
    }
    defer {
        items.deinitialize(count: entries.count)
        items.deallocate()
        for string in strings { free(string) }
    }
    var vector = ACL_vector(count: Int32(entries.count), data: items)
    return withUnsafePointer(to: &vector) { body($0) }
}
