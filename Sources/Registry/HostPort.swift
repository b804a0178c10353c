/// A `HOST:PORT` pair from a command line or a config; IPv6 literals are written `[::1]:6000`.
/// Shared by the agent (`--server`, `--advertise`) and the balancer (`--listen`, `--admin`).
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Why a `HOST:PORT` string was rejected.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var input: String
        public var problem: String
        public var description: String { "invalid address '\(input)': \(problem) (expected HOST:PORT, e.g. 127.0.0.1:6000)" }
    }

    /// The lenient form for listen and admin addresses: `:PORT` means `defaultHost:PORT`, and port
    /// 0 (any free port) is allowed. Returns nil where ``parse(_:)`` would throw.
    public init?(parsing text: String, defaultHost: String = "127.0.0.1") {
        var full = text
        if text.hasPrefix(":") {
            full = HostPort(host: defaultHost, port: 0).bracketedHost + text
        }
        guard let parsed = try? Self.parse(full, allowPortZero: true) else { return nil }
        self = parsed
    }

    public static func parse(_ text: String) throws(ParseError) -> HostPort {
        try parse(text, allowPortZero: false)
    }

    static func parse(_ text: String, allowPortZero: Bool) throws(ParseError) -> HostPort {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ParseError(input: text, problem: "missing ']' after IPv6 address")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw ParseError(input: text, problem: "missing ':PORT'") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ParseError(input: text, problem: "missing ':PORT'")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                throw ParseError(input: text, problem: "IPv6 addresses need brackets, e.g. [::1]:6000")
            }
        }
        guard !host.isEmpty else { throw ParseError(input: text, problem: "empty host") }
        guard !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw ParseError(input: text, problem: "host contains whitespace or '/'")
        }
        guard let port = Int(portText), ((allowPortZero ? 0 : 1)...65535).contains(port) else {
            throw ParseError(input: text, problem: "port must be a number from 1 to 65535")
        }
        return HostPort(host: String(host), port: port)
    }

    public var description: String {
        "\(bracketedHost):\(port)"
    }

    /// The host as written before `:PORT`: IPv6 literals in brackets.
    var bracketedHost: String {
        host.contains(":") ? "[\(host)]" : host
    }
}
