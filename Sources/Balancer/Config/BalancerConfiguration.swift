import Foundation

/// The whole balancer configuration, read from an nginx `stream {}` style file.
public struct BalancerConfiguration: Sendable, Equatable {
    public var upstreams: [UpstreamConfiguration]
    /// One per `listen` of each `server {}` block.
    public var servers: [ServerConfiguration]
    /// `admin 127.0.0.1:8001;` inside `stream {}`, if given.
    public var admin: String?
    /// `events { worker_connections N; }`, if given.
    public var workerConnections: Int?
    /// `worker_processes N;` in the main context: the number of event loops (threads); nil for
    /// `auto` or no directive (one per core).
    public var workerProcesses: Int?

    public init(
        upstreams: [UpstreamConfiguration] = [],
        servers: [ServerConfiguration] = [],
        admin: String? = nil,
        workerConnections: Int? = nil,
        workerProcesses: Int? = nil
    ) {
        self.upstreams = upstreams
        self.servers = servers
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

    /// Reads and validates a config file. Throws `ConfigError` (also for an unreadable file).
    public static func load(path: String) throws -> BalancerConfiguration {
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
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

    static func parse(bytes: [UInt8], file: String) throws -> BalancerConfiguration {
        let tokens = try ConfigTokenizer.tokenize(bytes: bytes, file: file)
        let tree = try ConfigDirective.parseTree(tokens, file: file)
        return try ConfigValidator(file: file).validate(tree)
    }
}
