import Foundation
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
    /// Where each listen address (`host:port`, as written) came from, for bind errors:
    /// `listen, FILE:LINE:COL`, or `--listen` for the quick start.
    public var listenOrigins: [String: String] = [:]
    /// Where the `admin` address came from: `admin, FILE:LINE:COL`.
    public var adminOrigin: String?
    /// Per upstream, the position of each `server` line (same order as its `servers`), for the
    /// error when a host name does not resolve; the messages are empty.
    public var serverPositions: [String: [ConfigError]] = [:]

    public init(
        upstreams: [UpstreamConfiguration] = [],
        listeners: [ListenerConfiguration] = [],
        admin: String? = nil,
        workerConnections: Int? = nil,
        workerProcesses: Int? = nil
    ) {
        self.upstreams = upstreams
        self.listeners = listeners
        self.admin = admin
        self.workerConnections = workerConnections
        self.workerProcesses = workerProcesses
    }

    /// The upstream named `name`, if any.
    public func upstream(named name: String) -> UpstreamConfiguration? {
        upstreams.first { $0.name == name }
    }

    /// Config files larger than this are refused (a real one is a few KiB; this stops `/dev/zero`).
    public static let maximumFileSize = 4 * 1024 * 1024

    /// Every upstream's warnings, in file order.
    public var warnings: [ConfigError] { upstreams.flatMap(\.warnings) }

    /// Reads and validates a config file. Throws `ConfigError` (also for an unreadable file).
    /// Only a regular file is read: a FIFO, a device or a directory is refused at once, without
    /// waiting for a writer or reading an endless stream.
    public static func load(path: String) throws -> BalancerConfiguration {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw ConfigError(file: path, line: 0, column: 0, message: "cannot read config file: \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw ConfigError(file: path, line: 0, column: 0, message: "cannot read config file: not a regular file")
        }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumFileSize + 1) ?? Data()
        } catch {
            throw ConfigError(file: path, line: 0, column: 0, message: "cannot read config file: \(error.localizedDescription)")
        }
        guard data.count <= maximumFileSize else {
            throw ConfigError(file: path, line: 0, column: 0, message: "config file is larger than \(maximumFileSize / 1024 / 1024) MiB")
        }
        return try parse(bytes: Array(data), file: path)
    }

    /// Parses and validates config text; `file` only names the source in errors.
    public static func parse(_ text: String, file: String) throws -> BalancerConfiguration {
        try parse(bytes: Array(text.utf8), file: file)
    }

    /// Parses and validates config bytes, which must be UTF-8; `file` only names the source in errors.
    public static func parse(bytes: [UInt8], file: String) throws(ConfigError) -> BalancerConfiguration {
        try ConfigTokenizer.requireUTF8(bytes, file: file)
        let tokens = try ConfigTokenizer.tokenize(bytes: bytes, file: file)
        let tree = try ConfigDirective.parseTree(tokens, file: file)
        return try ConfigValidator(file: file).validate(tree)
    }
}
