import MusterBase
import Registry

/// The `zookeeper HOSTS path=/p ...;` directive of an `upstream` block: members discovered live.
public struct ZooKeeperSource: Sendable, Equatable {
    /// ZooKeeper connect string, e.g. `"h1:2181,h2:2181/chroot"`.
    public var connectString: String
    /// The service path (e.g. `/muster/services/chat`); the members are the children of
    /// ``membersPath`` (`<path>/members`), where `server-agent --path` registers them.
    public var path: String
    /// `auth_file=F`: a file holding `user:password` for digest auth (never inline, never logged).
    public var authFile: String?
    /// `session_timeout=T`, default 10s.
    public var sessionTimeout: Duration
    /// `max_fails=N` applied to every discovered member, default 1.
    public var maxFails: Int
    /// `fail_timeout=T` applied to every discovered member, default 10s.
    public var failTimeout: Duration
    /// `panic_threshold=N%`, default 50; 0 disables. Lost members that would leave fewer than this
    /// share of the group in service stay in service as suspects.
    public var panicThreshold: Int
    /// `suspect_timeout=T`, default 10m: a suspect is removed after this long at the latest.
    public var suspectTimeout: Duration
    /// `slow_start=T` for every discovered member, default 0 (off).
    public var slowStart: Duration
    /// `flap_limit=`, `flap_window=`, `flap_hold=`, `flap_max_hold=`.
    public var flapDamping: FlapDamping

    public init(
        connectString: String,
        path: String,
        authFile: String? = nil,
        sessionTimeout: Duration = .seconds(10),
        maxFails: Int = 1,
        failTimeout: Duration = .seconds(10),
        panicThreshold: Int = 50,
        suspectTimeout: Duration = .seconds(600),
        slowStart: Duration = .zero,
        flapDamping: FlapDamping = FlapDamping()
    ) {
        self.connectString = connectString
        self.path = path
        self.authFile = authFile
        self.sessionTimeout = sessionTimeout
        self.maxFails = maxFails
        self.failTimeout = failTimeout
        self.panicThreshold = panicThreshold
        self.suspectTimeout = suspectTimeout
        self.slowStart = slowStart
        self.flapDamping = flapDamping
    }

    /// The path whose children are member records.
    public var membersPath: String { ServicePath.members(of: path) }
}
