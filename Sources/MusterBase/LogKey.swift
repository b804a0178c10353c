/// Log metadata keys, named once: every part logs a thing under the same key, so a log search for
/// `zk.node` or `upstream` finds it wherever it was logged. Dotted keys group by subject (`zk.*`,
/// `member.*`, `check.*`), as swift-log's best practices suggest.
public enum LogKey {
    // General
    public static let added = "added"
    public static let address = "address"
    public static let admin = "admin"
    public static let config = "config"
    public static let connections = "connections"
    public static let deadline = "deadline"
    public static let error = "error"
    public static let host = "host"
    public static let listen = "listen"
    public static let listeners = "listeners"
    public static let members = "members"
    public static let mode = "mode"
    public static let openFiles = "open_files"
    public static let reason = "reason"
    public static let records = "records"
    public static let refused = "refused"
    public static let removed = "removed"
    public static let stale = "stale"
    public static let suppressed = "suppressed"
    public static let updated = "updated"
    public static let upstream = "upstream"
    public static let workerConnections = "worker_connections"
    public static let workers = "workers"

    // The chat server
    public static let serverName = "server.name"

    // The open-files limit
    public static let limitHard = "limit.hard"
    public static let limitSoft = "limit.soft"

    // The admin endpoint
    public static let adminMaxConnections = "admin.max_connections"
    public static let adminRemote = "admin.remote"

    // Access logs
    public static let accessLogFile = "access_log.file"

    // Credentials files (the path, never the content)
    public static let authFile = "auth.file"

    // The agent's health check
    public static let checkConsecutiveFailures = "check.consecutive_failures"
    public static let checkFall = "check.fall"
    public static let checkInterval = "check.interval"
    public static let checkKind = "check.kind"
    public static let checkReason = "check.reason"
    public static let checkRise = "check.rise"
    public static let checkTarget = "check.target"
    public static let checkTimeout = "check.timeout"

    // The agent's supervised child process
    public static let childCommand = "child.command"
    public static let childExitCode = "child.exit_code"
    public static let childPid = "child.pid"

    // The agent's drain signal
    public static let drainSignal = "drain.signal"

    // The agent's health transitions
    public static let healthFrom = "health.from"
    public static let healthPreviousLasted = "health.previous_lasted"
    public static let healthReason = "health.reason"
    public static let healthTo = "health.to"

    // A member (its record's fields)
    public static let memberAdvertise = "member.advertise"
    public static let memberDraining = "member.draining"
    public static let memberID = "member.id"

    // An upstream group's member, at connect
    public static let upstreamAddress = "upstream.address"
    public static let upstreamID = "upstream.id"

    // ZooKeeper
    public static let zkAuth = "zk.auth"
    public static let zkConnect = "zk.connect"
    public static let zkNextReportIn = "zk.next_report_in"
    public static let zkNode = "zk.node"
    public static let zkPath = "zk.path"
    public static let zkWaited = "zk.waited"
}
