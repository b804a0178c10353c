/// An error from ZooKeeper, or from Muster's client around it, naming the operation and path.
public struct ZooKeeperError: Error, Sendable, Equatable, CustomStringConvertible {
    /// ZooKeeper's result codes that callers act on, plus Muster's own `timedOut`.
    /// Codes this client does not know are kept as `.other(code)`.
    public enum Code: Sendable, Hashable, CustomStringConvertible {
        case noNode
        case nodeExists
        case connectionLoss
        case sessionExpired
        case noAuth
        case authFailed
        case badVersion
        case notEmpty
        case noChildrenForEphemerals
        case invalidACL
        case operationTimeout
        case badArguments
        case invalidState
        case closing
        case marshallingError
        case sessionMoved
        case notReadOnly
        case systemError
        case apiError
        /// Muster's own deadline passed (e.g. waiting to connect).
        case timedOut
        /// The client was closed by its owner.
        case clientClosed
        case other(Int32)

        // `init(rawCode:)`, the mapping from the C library's codes, is at the C boundary
        // (CConstants.swift).

        public var description: String {
            switch self {
            case .noNode: "no node"
            case .nodeExists: "node exists"
            case .connectionLoss: "connection loss"
            case .sessionExpired: "session expired"
            case .noAuth: "not authorized (ACL)"
            case .authFailed: "authentication failed"
            case .badVersion: "version conflict"
            case .notEmpty: "node has children"
            case .noChildrenForEphemerals: "ephemeral nodes cannot have children"
            case .invalidACL: "invalid ACL"
            case .operationTimeout: "operation timeout"
            case .badArguments: "bad arguments"
            case .invalidState: "invalid handle state (expired or auth failed)"
            case .closing: "client is closing"
            case .marshallingError: "marshalling error"
            case .sessionMoved: "session moved"
            case .notReadOnly: "server is read-only"
            case .systemError: "system error"
            case .apiError: "API error"
            case .timedOut: "timed out"
            case .clientClosed: "client closed"
            case .other(let code): "ZooKeeper error \(code)"
            }
        }

        /// Errors after which the same request may succeed once the session is usable again.
        public var isTransient: Bool {
            switch self {
            case .connectionLoss, .sessionExpired, .operationTimeout, .invalidState, .closing, .sessionMoved, .timedOut:
                true
            default:
                false
            }
        }
    }

    public var code: Code
    /// The operation that failed, e.g. "create".
    public var operation: String
    /// The znode path, as the caller named it (without the chroot).
    public var path: String?

    public init(_ code: Code, operation: String, path: String? = nil) {
        self.code = code
        self.operation = operation
        self.path = path
    }

    public var description: String {
        if let path {
            return "ZooKeeper \(operation) \(path): \(code)"
        }
        return "ZooKeeper \(operation): \(code)"
    }
}
