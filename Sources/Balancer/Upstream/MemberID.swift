import MusterBase

/// Identity of an upstream member, stable across reconfigurations and membership snapshots.
///
/// Static members are `static:HOST:PORT`; discovered members are `zk:<record id>`.
public struct MemberID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The id of a static `server HOST:PORT` line.
    public static func staticServer(host: String, port: Int) -> MemberID {
        MemberID(rawValue: "static:\(Endpoint(host: host, port: port))")
    }

    /// The id of a member discovered in the registry under record id `recordID`.
    public static func discovered(_ recordID: String) -> MemberID {
        MemberID(rawValue: "zk:\(recordID)")
    }

    public var description: String { rawValue }

    public static func < (lhs: MemberID, rhs: MemberID) -> Bool { lhs.rawValue < rhs.rawValue }
}
