/// The `zookeeper HOSTS path=/p ...;` directive of an `upstream` block: members discovered live.
public struct ZooKeeperSource: Sendable, Equatable {
    /// ZooKeeper connect string, e.g. `"h1:2181,h2:2181/chroot"`.
    public var connectString: String
    /// The members path whose children are member records.
    public var path: String
    /// `auth_file=F`: a file holding `user:password` for digest auth (never inline, never logged).
    public var authFile: String?
    /// `session_timeout=T`, default 10s.
    public var sessionTimeout: Duration
    /// `max_fails=N` applied to every discovered member, default 1.
    public var maxFails: Int
    /// `fail_timeout=T` applied to every discovered member, default 10s.
    public var failTimeout: Duration

    public init(
        connectString: String,
        path: String,
        authFile: String? = nil,
        sessionTimeout: Duration = .seconds(10),
        maxFails: Int = 1,
        failTimeout: Duration = .seconds(10)
    ) {
        self.connectString = connectString
        self.path = path
        self.authFile = authFile
        self.sessionTimeout = sessionTimeout
        self.maxFails = maxFails
        self.failTimeout = failTimeout
    }
}
