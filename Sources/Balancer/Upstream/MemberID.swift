import MusterBase

/// Identity of an upstream member, stable across reconfigurations and membership snapshots.
///
/// Static members are `static:HOST:PORT` (`static:HOST:PORT#N` for the N-th line of the same
/// address in one upstream); discovered members are `zk:<record id>`.
public struct MemberID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The id of a static `server HOST:PORT` line. nginx makes every line a peer, so the same
    /// address on several lines of one upstream gives several members: `occurrence` counts those
    /// lines from 1, and only the repeats carry it (the first keeps the plain id, so a reload that
    /// adds a repeat leaves the first line's counters where they were).
    public static func staticServer(host: String, port: Int, occurrence: Int = 1) -> MemberID {
        let plain = "static:\(Endpoint(host: host, port: port))"
        return MemberID(rawValue: occurrence > 1 ? "\(plain)#\(occurrence)" : plain)
    }

    /// The ids of an upstream's `server` lines, in their order (see ``staticServer(host:port:occurrence:)``).
    static func staticServers(_ servers: [StaticServer]) -> [MemberID] {
        var seen: [Endpoint: Int] = [:]
        return servers.map { server in
            let endpoint = Endpoint(host: server.host, port: server.port)
            let occurrence = (seen[endpoint] ?? 0) + 1
            seen[endpoint] = occurrence
            return staticServer(host: server.host, port: server.port, occurrence: occurrence)
        }
    }

    /// The id of a member discovered in the registry under record id `recordID`.
    public static func discovered(_ recordID: String) -> MemberID {
        MemberID(rawValue: "zk:\(recordID)")
    }

    public var description: String { rawValue }

    public static func < (lhs: MemberID, rhs: MemberID) -> Bool { lhs.rawValue < rhs.rawValue }
}
