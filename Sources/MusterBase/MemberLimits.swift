/// The limits on a member, named once: the agent checks its flags against them, a record is
/// validated by them, the config's `server ... weight=` and the pool apply them.
public enum MemberLimits {
    /// A member's weight: nginx's `weight=`, capped at 1000 in Muster (consistent hashing places
    /// 160 points per weight unit, so an absurd weight would cost memory rather than balance better).
    public static let weights: ClosedRange<Int> = 1...1000

    /// A weight read from a remote record, kept in ``weights`` (a reader takes a larger weight as
    /// the largest one, so a newer writer's range does not drop the member).
    public static func clampedWeight(_ weight: Int) -> Int {
        min(max(weight, weights.lowerBound), weights.upperBound)
    }

    /// A member id is also its znode's name: 1-128 of these characters, and not `.` or `..`.
    public static let idLengths: ClosedRange<Int> = 1...128
    /// The id characters, as written in errors and help.
    public static let idCharacters = "A-Z a-z 0-9 . _ : -"

    /// Whether `byte` may appear in a member id.
    public static func isIDCharacter(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "-")
    }

    /// Whether `id` can be a member id (and so a znode name).
    public static func isValidID(_ id: String) -> Bool {
        guard idLengths.contains(id.utf8.count), id != ".", id != ".." else { return false }
        return id.utf8.allSatisfy(isIDCharacter)
    }

    /// A record's encoded size at most (ZooKeeper's own limit is 1 MiB; a member needs little).
    public static let maximumRecordSize = 16 * 1024
    /// At most this many metadata entries in a record.
    public static let maximumMetadataEntries = 64
    /// A writer keeps a record's `leaving` reason to this many bytes.
    public static let maximumLeavingLength = 512
}
