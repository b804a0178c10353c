import Foundation
import MusterBase

/// Where and how a ``ZooKeeperClient`` connects.
public struct ZooKeeperConfiguration: Sendable, Hashable {
    /// `host:port[,host:port...][/chroot]`, e.g. `h1:2181,h2:2181,h3:2181/muster`.
    public var connectString: String
    /// The requested session timeout; the server clamps it to its own min/max.
    public var sessionTimeout: Duration
    /// Digest credentials, added to every session this client opens.
    public var credentials: DigestCredentials?

    public init(connectString: String, sessionTimeout: Duration = .seconds(10), credentials: DigestCredentials? = nil) {
        self.connectString = connectString
        self.sessionTimeout = sessionTimeout
        self.credentials = credentials
    }

    /// The host list and the chroot, split. The chroot is applied by this client (so it can be
    /// created like any other parent), not by the C library.
    ///
    /// This is the one rule for a connect string: the balancer's config check, its quick start, the
    /// agent and this client all call it, so a string that passes `balancer check` also connects.
    /// Every server is `HOST:PORT` (a port is required; the host an IP address or a DNS name, IPv6
    /// in brackets or bare as the C client takes it); the chroot, if any, is a ZooKeeper path
    /// (trailing slashes are dropped).
    public func parsed() throws(ConfigurationError) -> (hosts: String, chroot: String) {
        let text = connectString.trimmingCharacters(in: .whitespaces)
        let shown = UntrustedText.escaped(connectString, limit: 120)
        var hosts = text
        var chroot = ""
        if let slash = text.firstIndex(of: "/") {
            hosts = String(text[..<slash])
            chroot = String(text[slash...])
            while chroot.hasSuffix("/") { chroot.removeLast() }
            if !chroot.isEmpty, let problem = ServicePath.problem(with: chroot) {
                throw ConfigurationError("invalid chroot in ZooKeeper connection string '\(shown)': \(problem)")
            }
            if chroot.isEmpty, text[slash...].count > 1 {
                throw ConfigurationError("invalid chroot in ZooKeeper connection string '\(shown)'")
            }
        }
        if hosts.isEmpty {
            throw ConfigurationError("empty ZooKeeper connection string; expected host:port[,host:port...][/chroot]")
        }
        for entry in hosts.split(separator: ",", omittingEmptySubsequences: false) {
            do {
                _ = try Endpoint.parse(entry, .zooKeeperServer)
            } catch {
                let required = error.problem == .missingPort ? " (a port is required)" : ""
                throw ConfigurationError(
                    "invalid ZooKeeper host '\(UntrustedText.escaped(entry, limit: 80))' in '\(shown)'; expected host:port\(required)")
            }
        }
        return (hosts, chroot)
    }

    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}

/// ZooKeeper digest credentials (`user:password`). Never printed: `description` is redacted.
public struct DigestCredentials: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    public var password: String
    /// The file they were read from, so an authorization error can name it (never the secret).
    /// Not part of equality: the same user and password from two files are the same identity.
    public var file: String?

    public init(user: String, password: String, file: String? = nil) {
        self.user = user
        self.password = password
        self.file = file
    }

    public static func == (lhs: DigestCredentials, rhs: DigestCredentials) -> Bool {
        lhs.user == rhs.user && lhs.password == rhs.password
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(user)
        hasher.combine(password)
    }

    public var description: String { "digest(\(user):<redacted>)" }

    /// The `user:password` form ZooKeeper's digest scheme takes.
    var scheme: String { "\(user):\(password)" }

    /// Parses `user:password` (surrounding whitespace and a trailing newline ignored).
    public static func parse(_ text: String) throws(CredentialsError) -> DigestCredentials {
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !line.contains("\n") else { throw CredentialsError("expected one line 'user:password'") }
        guard let colon = line.firstIndex(of: ":") else { throw CredentialsError("expected 'user:password'") }
        let user = String(line[..<colon])
        let password = String(line[line.index(after: colon)...])
        guard !user.isEmpty else { throw CredentialsError("empty user") }
        guard !password.isEmpty else { throw CredentialsError("empty password") }
        return DigestCredentials(user: user, password: password)
    }

    /// Reads `user:password` from a file. The error names the file, never its content.
    public static func load(fromFile path: String) throws(CredentialsError) -> DigestCredentials {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CredentialsError("cannot read auth file \(path): \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CredentialsError("auth file \(path) is not UTF-8")
        }
        do {
            var credentials = try parse(text)
            credentials.file = path
            return credentials
        } catch {
            throw CredentialsError("auth file \(path): \(error.description)")
        }
    }

    public struct CredentialsError: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
