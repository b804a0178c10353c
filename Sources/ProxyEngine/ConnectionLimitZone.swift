import Synchronization

/// One `limit_conn_zone`: the number of open sessions per key, shared by every worker (nginx keeps
/// it in a shared-memory zone), in a table bounded by the zone's size.
///
/// The size is spent as nginx's slab allocator spends it: a key's entry takes its tree node
/// (36 bytes on 64-bit) plus the key, rounded up to a power of two, so `zone=addr:1m` with
/// `$binary_remote_addr` holds 16,384 IPv4 clients, the "about 16 thousand 64-byte states" of
/// nginx's documentation. When a new key does not fit, the session is refused, as nginx does
/// (`limit_conn` answers 503 whether the key is over its limit or the zone is full).
/// An entry is removed when its last session ends.
public final class ConnectionLimitZone: Sendable {
    public enum Outcome: Sendable, Equatable {
        case admitted
        /// The key already has `limit` sessions.
        case limited
        /// The key is new and the zone has no room for it.
        case full
    }

    public let name: String
    public let size: Int
    private let table: Mutex<Table>

    private struct Table {
        var counts: [[UInt8]: Int] = [:]
        var used = 0
    }

    /// The longest key counted; longer ones are not limited (nginx logs them and lets them pass).
    public static let maxKeyLength = 255

    public init(name: String, size: Int) {
        self.name = name
        self.size = size
        self.table = Mutex(Table())
    }

    /// The zone bytes a key of `length` bytes takes.
    public static func entryCost(keyLength length: Int) -> Int {
        var cost = 8
        while cost < 36 + length { cost *= 2 }
        return cost
    }

    /// Counts one more session for `key` if it has fewer than `limit`.
    public func acquire(_ key: [UInt8], limit: Int) -> Outcome {
        self.table.withLock { table in
            if let count = table.counts[key] {
                guard count < limit else { return .limited }
                table.counts[key] = count + 1
                return .admitted
            }
            let cost = Self.entryCost(keyLength: key.count)
            guard limit > 0 else { return .limited }
            guard table.used + cost <= self.size else { return .full }
            table.used += cost
            table.counts[key] = 1
            return .admitted
        }
    }

    /// One session of `key` ended.
    public func release(_ key: [UInt8]) {
        self.table.withLock { table in
            guard let count = table.counts[key] else { return }
            if count > 1 {
                table.counts[key] = count - 1
            } else {
                table.counts[key] = nil
                table.used -= Self.entryCost(keyLength: key.count)
            }
        }
    }

    /// The sessions counted for `key` now.
    public func count(_ key: [UInt8]) -> Int {
        self.table.withLock { $0.counts[key] ?? 0 }
    }

    /// The zone bytes in use.
    public var used: Int {
        self.table.withLock { $0.used }
    }
}
