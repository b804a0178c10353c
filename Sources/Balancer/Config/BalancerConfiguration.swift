import MusterBase

/// The whole balancer configuration, read from an nginx `stream {}` style file.
public struct BalancerConfiguration: Sendable, Equatable {
    public var upstreams: [UpstreamConfiguration]
    /// One per `listen` of each `server {}` block, in file order.
    public var listeners: [ListenerConfiguration]
    /// `admin 127.0.0.1:8001;` inside `stream {}`, if given.
    public var admin: String?
    /// The admin endpoint's address without an `admin` directive or `--admin`.
    public static let defaultAdmin = Endpoint(host: defaultAdminHost, port: 8001)
    /// The host of an `admin` address that gives only a port.
    public static let defaultAdminHost = "127.0.0.1"
    /// The `admin` directive's `max_connections=`, `request_timeout=`, ... parameters.
    public var adminLimits: AdminLimits = .default
    /// `events { worker_connections N; }`, if given.
    public var workerConnections: Int?
    /// `worker_processes N;` in the main context: the number of event loops (threads); nil for
    /// `auto` or no directive (one per core).
    public var workerProcesses: Int?
    /// `events { multi_accept on|off; }`, default on (nginx's is off): the engine's `multiAccept`.
    public var multiAccept = true
    /// `user USER [GROUP];` in the main context.
    public var user: UserConfiguration?
    /// `pid FILE;` in the main context, as an absolute path: written once the listeners are bound,
    /// removed on exit. nil: no pid file.
    public var pidFile: String?
    /// `error_log` in the main context: the balancer's own log (empty: standard error at the
    /// `--log-level`).
    public var errorLogs: [ErrorLogConfiguration] = []
    /// `worker_rlimit_nofile N;`: the open-files limit to set at start (nil: raised to the hard limit).
    public var openFileLimit: Int?
    /// Where each listen address (`host:port`, as written) came from, for bind errors:
    /// `listen, FILE:LINE:COL`, or `--listen` for the quick start.
    public var listenOrigins: [String: String] = [:]
    /// Where the `admin` address came from: `admin, FILE:LINE:COL`.
    public var adminOrigin: String?
    /// Per upstream, the position of each `server` line (same order as its `servers`), for the
    /// error when a host name does not resolve; the messages are empty.
    public var serverPositions: [String: [ConfigError]] = [:]

    /// The groups and listeners; every other setting starts at its default (nginx's, where nginx has
    /// the directive) and is set by the parser or by the caller.
    public init(upstreams: [UpstreamConfiguration] = [], listeners: [ListenerConfiguration] = []) {
        self.upstreams = upstreams
        self.listeners = listeners
    }

    /// The upstream named `name`, if any.
    public func upstream(named name: String) -> UpstreamConfiguration? {
        upstreams.first { $0.name == name }
    }

    /// Where the messages about `listener`'s sessions go: its own `error_log` (server, else
    /// `stream {}`), else the main context's, as nginx's `error_log` is inherited. Empty: the
    /// balancer's own log.
    public func errorLogs(for listener: ListenerConfiguration) -> [ErrorLogConfiguration] {
        listener.errorLogs.isEmpty ? self.errorLogs : listener.errorLogs
    }

    /// Config files larger than this are refused (a real one is a few KiB; this stops `/dev/zero`).
    public static let maximumFileSize = 4 * 1024 * 1024

    /// Every upstream's warnings, in file order.
    public var warnings: [ConfigError] { upstreams.flatMap(\.warnings) }

    /// Reads and validates a config file. Throws `ConfigError` (also for an unreadable file).
    /// Only a regular file is read: a FIFO, a device or a directory is refused at once, without
    /// waiting for a writer or reading an endless stream.
    public static func load(path: String) throws -> BalancerConfiguration {
        try load(ConfigSource(path: path))
    }

    /// Reads and validates the config `source` names, with its prefix and `--global` directives.
    public static func load(_ source: ConfigSource) throws(ConfigError) -> BalancerConfiguration {
        let path = source.configPath
        return try parse(bytes: try ConfigFile.read(path), file: path, prefix: source.prefix, globals: source.globals)
    }

    /// Parses and validates config text; `file` names the source in errors, and its folder is
    /// where relative `include`s are found.
    public static func parse(_ text: String, file: String) throws -> BalancerConfiguration {
        try parse(bytes: Array(text.utf8), file: file)
    }

    /// Parses and validates config bytes, which must be UTF-8; `file` names the source in errors,
    /// and its folder is where relative `include`s are found. `prefix` (default: that folder) is
    /// what other relative paths are resolved against; `globals` are main-context directives read
    /// before the file's (nginx's `-g`).
    public static func parse(bytes: [UInt8], file: String, prefix: String? = nil, globals: String? = nil) throws(ConfigError) -> BalancerConfiguration {
        let folder = ConfigPaths.folder(of: file)
        var includes = ConfigIncludes(folder: folder)
        var tree: [ConfigDirective] = []
        if let globals {
            tree = try includes.expand(try ConfigFile.tree(Array(globals.utf8), file: ConfigSource.globalsName))
        }
        tree += try includes.expand(try ConfigFile.tree(bytes, file: file))
        return try ConfigValidator(file: file, prefix: prefix ?? folder).validate(tree)
    }
}
