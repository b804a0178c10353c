/// One `server ADDR [...]` line of an `upstream` block.
public struct StaticServer: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// `weight=N`, default 1.
    public var weight: Int
    /// `max_fails=N`, default 1; 0 disables passive health for this member.
    public var maxFails: Int
    /// `fail_timeout=T`, default 10s: both the window for counting failures and the time out of service.
    public var failTimeout: Duration
    /// `max_conns=N`, 0 = unlimited.
    public var maxConns: Int
    /// `backup`: used only when every primary member is unavailable.
    public var backup: Bool
    /// `down`: never used.
    public var down: Bool
    /// `slow_start=T` (nginx Plus), default 0 (off): weight ramps from 10% over T after the member
    /// comes back from unavailable or is added by a reload.
    public var slowStart: Duration

    public init(
        host: String,
        port: Int,
        weight: Int = 1,
        maxFails: Int = 1,
        failTimeout: Duration = .seconds(10),
        maxConns: Int = 0,
        backup: Bool = false,
        down: Bool = false,
        slowStart: Duration = .zero
    ) {
        self.host = host
        self.port = port
        self.weight = weight
        self.maxFails = maxFails
        self.failTimeout = failTimeout
        self.maxConns = maxConns
        self.backup = backup
        self.down = down
        self.slowStart = slowStart
    }
}
