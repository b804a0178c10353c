/// A `HOST:PORT` pair from the command line; IPv6 literals are written `[::1]:6000`.
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

    public static func parse(_ text: String) throws(ParseError) -> HostPort {
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
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw ParseError(input: text, problem: "port must be a number from 1 to 65535")
        }
        return HostPort(host: String(host), port: port)
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
