/// One message about a session for its listener's `error_log`, as nginx's stream modules write
/// them: plain data made by the worker at the moment it happens and turned into text by the log
/// writer's thread, so a worker never formats a line or writes a file.
public struct SessionEvent: Sendable, BitwiseCopyable {
    public enum Kind: UInt8, Sendable, BitwiseCopyable {
        /// `client ADDR connected to LISTEN` (info).
        case clientConnected
        /// `no live upstreams while connecting to upstream` (error).
        case noLiveUpstreams
        /// `connect() failed (ERRNO: TEXT) while connecting to upstream` (error); `error` is
        /// ETIMEDOUT for `upstream timed out`, 0 for a member address that cannot be resolved.
        case connectFailed
        /// `proxy LOCAL connected to MEMBER` (info).
        case upstreamConnected
        /// `client|upstream disconnected, bytes from/to client:N/N, bytes from/to upstream:N/N` (info).
        case disconnected
        /// `connection timed out (110: Connection timed out) while proxying connection` (info).
        case idleTimedOut
        /// `access forbidden by rule` (error).
        case forbidden
        /// `limiting connections by zone "NAME"` (`limit_conn_log_level`); `limit` is the zone's
        /// index in the listener's limits.
        case limited
        /// A broken PROXY protocol header, or none in time (`error` ETIMEDOUT) (error / info).
        case badProxyHeader
    }

    public var kind: Kind = .clientConnected
    public var level: LogLevel = .info
    /// `$connection`.
    public var serial: UInt64 = 0
    public var client = RecordAddress()
    /// The member's address (connect failures, the member connected and later messages).
    public var peer = RecordAddress()
    /// `upstreamConnected`: the balancer's side of the member connection.
    public var local = RecordAddress()
    public var error: Int32 = 0
    public var limit: UInt16 = 0
    /// `disconnected`: the member ended the session (else the client did).
    public var byUpstream = false
    /// Bytes read from and written to the client, read from and written to the member.
    public var clientReceived: Int64 = 0
    public var clientSent: Int64 = 0
    public var upstreamReceived: Int64 = 0
    public var upstreamSent: Int64 = 0

    public init(kind: Kind = .clientConnected, level: LogLevel = .info) {
        self.kind = kind
        self.level = level
    }
}

/// Where the workers leave a listener's `SessionEvent`s: one bounded ring per worker, as
/// `SessionLog`'s records, drained by the log writer. `level` is the lowest level any of the
/// listener's error logs takes: the workers make no message below it (no per-connection info
/// messages unless a log asks for them, as nginx checks `log_level >= NGX_LOG_INFO`).
public final class SessionErrorLog: Sendable {
    public let level: LogLevel
    let rings: [RecordRing<SessionEvent>]
    let wakeup: LogWakeup?

    public init(workers: Int, level: LogLevel, capacity: Int = 1024, wakeup: LogWakeup? = nil) {
        self.level = level
        self.wakeup = wakeup
        self.rings = (0..<max(1, workers)).map { _ in RecordRing(capacity: capacity, filler: SessionEvent()) }
    }

    /// Whether messages of `level` are made at all.
    @inline(__always)
    public func takes(_ level: LogLevel) -> Bool {
        level >= self.level
    }

    @inline(__always)
    func push(_ event: SessionEvent, worker: Int) {
        self.rings[worker].push(event)
        self.wakeup?.notify()
    }

    /// Events dropped because a ring was full.
    public var dropped: Int {
        self.rings.reduce(0) { $0 + $1.dropped.load(ordering: .relaxed) }
    }

    public var isEmpty: Bool {
        self.rings.allSatisfy(\.isEmpty)
    }

    /// Takes every waiting event, worker by worker, oldest first. Only one consumer may call it.
    public func drain(_ body: (borrowing SessionEvent) -> Void) {
        for ring in self.rings {
            ring.drain(body)
        }
    }
}
