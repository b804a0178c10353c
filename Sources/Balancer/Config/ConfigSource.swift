/// Where a configuration comes from: `balancer run --config FILE [--prefix DIR] [--global "..."]`,
/// nginx's `-c`, `-p` and `-g`. Kept by the running balancer, so a reload reads it the same way.
public struct ConfigSource: Sendable, Equatable {
    /// The config file as given; relative to `prefix` if one is given, as nginx's `-c` is.
    public var path: String
    /// The folder relative paths in the config (`pid`, `error_log`, logs) are resolved against;
    /// nil: the config file's folder.
    public var prefix: String?
    /// Main-context directives read before the file's, e.g. `pid /run/x.pid; error_log stderr;`.
    public var globals: String?

    /// How `--global` is named in errors.
    static let globalsName = "--global"

    public init(path: String, prefix: String? = nil, globals: String? = nil) {
        self.path = path
        self.prefix = prefix
        self.globals = globals
    }

    /// The config file to read.
    public var configPath: String {
        guard let prefix else { return path }
        return ConfigPaths.absolute(path, in: prefix)
    }

    /// A path given on the command line (`--error-log`), relative to `prefix` as nginx's `-e` is.
    public static func resolve(_ path: String, prefix: String?) -> String {
        prefix.map { ConfigPaths.absolute(path, in: $0) } ?? path
    }
}
