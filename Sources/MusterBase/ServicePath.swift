/// A service's place in ZooKeeper, and the one home of the ZooKeeper path rules.
///
/// Agents and balancers are both given the *service* path (e.g. `/muster/services/chat`); the
/// members are the children of its `members` node (`/muster/services/chat/members/<id>`), which
/// leaves room beside them for other per-service nodes (`balancers` later). This is the one place
/// that says so, and the one place that says what a path may contain:
/// - ``zooKeeperProblem(with:)``: what ZooKeeper itself accepts; the client checks every path it
///   sends by it (a node name may be anything ZooKeeper allows, junk included).
/// - ``problem(with:)``: that, and every character shows as itself; for paths a person configures
///   (the config's `path=`, `--path`, a connect string's chroot), so a log line or an error names
///   the path exactly.
/// - ``serviceProblem(with:)``: that, and not the root; for service paths (`path=`, `--path`).
public struct ServicePath: Sendable, Hashable, CustomStringConvertible {
    /// The service's own node, e.g. `/muster/services/chat`.
    public let node: String

    /// Validates `text` by ``serviceProblem(with:)``.
    public init(_ text: String) throws(Invalid) {
        if let problem = Self.serviceProblem(with: text) { throw Invalid(path: text, problem: problem) }
        node = text
    }

    /// The members node: `<service>/members`.
    public var members: String { Self.child("members", of: node) }

    /// One member's node: `<service>/members/<id>`.
    public func member(_ id: String) -> String { Self.child(id, of: members) }

    public var description: String { node }

    /// The members node of a service path a caller has already validated (the config's `path=`).
    public static func members(of servicePath: String) -> String {
        child("members", of: servicePath)
    }

    /// One member's node under a service path a caller has already validated.
    public static func member(_ id: String, of servicePath: String) -> String {
        child(id, of: members(of: servicePath))
    }

    /// `parent/name`, without doubling the root's slash.
    public static func child(_ name: String, of parent: String) -> String {
        parent == "/" ? "/" + name : parent + "/" + name
    }

    /// What is wrong with `path` as a service path, or nil: ``problem(with:)``, and not the root
    /// `/`. A service there would keep its members at `/members`, beside ZooKeeper's own nodes:
    /// what `--path /$UNSET` gives, never a layout of Muster's. Under a chroot the service is a
    /// node below it (`zk1:2181/muster` with `/services/chat`). The agent and the balancer both
    /// check by this, so a balancer can never be set to watch a path no agent can register under.
    public static func serviceProblem(with path: String) -> String? {
        if path == "/" { return "the root cannot be a service path (its members would be /members)" }
        return problem(with: path)
    }

    /// What is wrong with `path` as a path a person configures, or nil: ZooKeeper's own rule
    /// (``zooKeeperProblem(with:)``), and no whitespace, backslash, control or invisible character
    /// (any of which would not show as itself in a log line or an error).
    public static func problem(with path: String) -> String? {
        if let problem = zooKeeperProblem(with: path) { return problem }
        if let scalar = path.unicodeScalars.first(where: { !UntrustedText.isPlain($0) || $0.properties.isWhitespace }) {
            return reserved(scalar)
        }
        return nil
    }

    /// What ZooKeeper refuses in a node path, or nil (its `PathUtils.validatePath`): it is
    /// absolute, has no empty, `.` or `..` segment, no trailing `/` (the root `/` aside), and no
    /// NUL, control (U+0001–U+001F, U+007F–U+009F) or reserved character (U+D800–U+F8FF,
    /// U+FFF0–U+FFFF, and every character above U+FFFF, which Java holds as two surrogates).
    public static func zooKeeperProblem(with path: String) -> String? {
        guard path.hasPrefix("/") else { return "a ZooKeeper path starts with \"/\"" }
        if path == "/" { return nil }
        if path.hasSuffix("/") { return "a ZooKeeper path does not end with \"/\"" }
        for segment in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { return "empty segment (\"//\")" }
            if segment == "." || segment == ".." { return "\".\" and \"..\" segments are not allowed" }
        }
        for scalar in path.unicodeScalars {
            switch scalar.value {
            case 0x0...0x1F, 0x7F...0x9F, 0xD800...0xF8FF, 0xFFF0...: return reserved(scalar)
            default: continue
            }
        }
        return nil
    }

    private static func reserved(_ scalar: Unicode.Scalar) -> String {
        "control, invisible or reserved character U+\(String(scalar.value, radix: 16, uppercase: true))"
    }

    /// A path that breaks the rule, with the reason.
    public struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        public let path: String, problem: String
        public var description: String { "invalid path '\(UntrustedText.escaped(path, limit: 120))': \(problem)" }
    }
}
