import MusterBase

/// ZooKeeper refused an operation on a path to this client's identity (NOAUTH).
///
/// ZooKeeper's digest login never fails: a wrong password is simply another identity, so wrong
/// credentials show up only here, when that identity touches a node whose ACL does not name it.
/// The error names the path and the credentials file, never the secret.
public struct ZooKeeperAuthorizationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The operation refused, as ``ZooKeeperError/operation`` names it ("create", "children", ...).
    public var operation: String
    /// The znode path (without the chroot).
    public var path: String
    /// The digest user this client sent, or nil without credentials.
    public var user: String?
    /// Where the credentials came from, if from a file.
    public var credentialsFile: String?

    public init(operation: String, path: String, credentials: DigestCredentials?) {
        self.operation = operation
        self.path = path
        self.user = credentials?.user
        self.credentialsFile = credentials?.file
    }

    /// The authorization error behind `error`, if it is a NOAUTH from ZooKeeper.
    public init?(_ error: any Error, credentials: DigestCredentials?) {
        guard let zkError = error as? ZooKeeperError, zkError.code == .noAuth else { return nil }
        self.init(operation: zkError.operation, path: zkError.path ?? "/", credentials: credentials)
    }

    public var description: String {
        let denied = "not authorized: ZooKeeper denied \(operation) on \(UntrustedText.escaped(path))"
        guard let user else {
            return denied + " to a client without credentials; configure an auth file whose identity the path's ACL allows"
        }
        let file = credentialsFile.map { " with the credentials in \(UntrustedText.escaped($0))" } ?? ""
        return denied + " to digest user '\(UntrustedText.escaped(user, limit: 64))'\(file); "
            + "a wrong password is just another identity, so check the credentials against the path's ACL"
    }
}
