import MusterBase

/// Where a service's members live in ZooKeeper.
///
/// Agents and balancers are both given the *service* path (e.g. `/muster/services/chat`); the
/// members are the children of its `members` node (`/muster/services/chat/members/<id>`), which
/// leaves room beside them for other per-service nodes. This is the one place that says so.
public enum ServicePath {
    /// The members path of a service path.
    public static func members(of servicePath: String) -> String {
        servicePath == "/" ? "/members" : servicePath + "/members"
    }

    /// The node of one member.
    public static func member(_ id: String, of servicePath: String) -> String {
        members(of: servicePath) + "/" + id
    }

    /// What is wrong with `path` as a ZooKeeper node path, or nil: it is absolute, has no empty,
    /// `.` or `..` segment, no trailing `/` (the root `/` aside), and no character ZooKeeper
    /// refuses (NUL, controls, U+D800–U+F8FF, U+FFF0–U+FFFF) or that would not show as itself.
    /// The one rule for the config's `path=` and a connect string's chroot.
    public static func problem(with path: String) -> String? {
        guard path.hasPrefix("/") else { return "a ZooKeeper path starts with \"/\"" }
        if path == "/" { return nil }
        if path.hasSuffix("/") { return "a ZooKeeper path does not end with \"/\"" }
        for segment in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { return "empty segment (\"//\")" }
            if segment == "." || segment == ".." { return "\".\" and \"..\" segments are not allowed" }
        }
        for scalar in path.unicodeScalars {
            let value = scalar.value
            if (0xD800...0xF8FF).contains(value) || (0xFFF0...0xFFFF).contains(value)
                || !UntrustedText.isPlain(scalar) || scalar == "\\" || scalar.properties.isWhitespace
            {
                return "control, invisible or reserved character U+\(String(value, radix: 16, uppercase: true))"
            }
        }
        return nil
    }
}
