import Foundation

/// What a ChatServer publishes about itself: the data of its ephemeral znode
/// `<service path>/members/<id>`, as a JSON object.
///
/// ```json
/// {"version":1,"id":"chat-1","host":"10.0.0.5","port":6000,"weight":1,"draining":false,"metadata":{"zone":"a"}}
/// ```
/// Readers ignore unknown keys (so later format versions can add fields) and reject records whose
/// `version` is newer than they know, whose fields are out of range, or that are larger than
/// ``maxEncodedSize``.
public struct MemberRecord: Codable, Sendable, Hashable {
    /// The format version this code writes and the newest it reads.
    public static let formatVersion = 1
    /// Records larger than this are rejected (ZooKeeper's own limit is 1 MiB; a member needs little).
    public static let maxEncodedSize = 16 * 1024

    public var version: Int
    /// The member's id, also its znode's name: 1–128 characters of `A-Z a-z 0-9 . _ : -`.
    public var id: String
    /// The host (name or IP address) a balancer dials.
    public var host: String
    public var port: Int
    /// Relative share of new connections, 1...1000 (nginx's `weight`).
    public var weight: Int
    /// A draining member takes no new connections; established ones continue.
    public var draining: Bool
    /// Free-form string pairs (zone, build, ...); at most 64 entries.
    public var metadata: [String: String]

    public init(id: String, host: String, port: Int, weight: Int = 1, draining: Bool = false, metadata: [String: String] = [:]) {
        self.version = Self.formatVersion
        self.id = id
        self.host = host
        self.port = port
        self.weight = weight
        self.draining = draining
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case version, id, host, port, weight, draining, metadata
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(Int.self, forKey: .version)
        id = try container.decode(String.self, forKey: .id)
        host = try container.decode(String.self, forKey: .host)
        port = try container.decode(Int.self, forKey: .port)
        weight = try container.decodeIfPresent(Int.self, forKey: .weight) ?? 1
        draining = try container.decodeIfPresent(Bool.self, forKey: .draining) ?? false
        metadata = try container.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
    }

    /// The address a balancer dials, `host:port` (IPv6 hosts in brackets).
    public var address: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Checks every field's range; the error says which field is wrong.
    public func validate() throws(MemberRecordError) {
        guard version >= 1 else { throw .invalid("version must be >= 1, got \(version)") }
        guard version <= Self.formatVersion else {
            throw .invalid("format version \(version) is newer than this reader (\(Self.formatVersion))")
        }
        guard Self.isValidID(id) else {
            throw .invalid("id '\(id.prefix(64))' must be 1-128 characters of A-Z a-z 0-9 . _ : -")
        }
        guard !host.isEmpty, host.utf8.count <= 255, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw .invalid("host '\(host.prefix(64))' is not a host name or address")
        }
        guard (1...65535).contains(port) else { throw .invalid("port \(port) is out of range 1-65535") }
        guard (1...1000).contains(weight) else { throw .invalid("weight \(weight) is out of range 1-1000") }
        guard metadata.count <= 64 else { throw .invalid("metadata has \(metadata.count) entries; at most 64") }
    }

    /// Whether `id` can be a member id (and so a znode name).
    public static func isValidID(_ id: String) -> Bool {
        guard (1...128).contains(id.utf8.count), id != ".", id != ".." else { return false }
        return id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x3A || byte == 0x2D
        }
    }

    /// The JSON bytes stored in the znode (keys sorted, so equal records give equal bytes).
    public func encoded() throws(MemberRecordError) -> [UInt8] {
        try validate()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes: [UInt8]
        do {
            bytes = Array(try encoder.encode(self))
        } catch {
            throw .invalid("cannot encode: \(error)")
        }
        guard bytes.count <= Self.maxEncodedSize else {
            throw .tooLarge(bytes.count)
        }
        return bytes
    }

    /// Parses and validates a znode's data.
    public static func decode(_ bytes: [UInt8]) throws(MemberRecordError) -> MemberRecord {
        guard bytes.count <= maxEncodedSize else { throw .tooLarge(bytes.count) }
        guard !bytes.isEmpty else { throw .malformed("empty data") }
        let record: MemberRecord
        do {
            record = try JSONDecoder().decode(MemberRecord.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, _) {
            throw .malformed("missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context) where !context.codingPath.isEmpty {
            throw .malformed("wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw .malformed("not a JSON object")
        }
        try record.validate()
        return record
    }
}

/// Why a member record was rejected.
public enum MemberRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformed(String)
    case invalid(String)
    case tooLarge(Int)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed member record: \(why)"
        case .invalid(let why): "invalid member record: \(why)"
        case .tooLarge(let size): "member record of \(size) bytes exceeds \(MemberRecord.maxEncodedSize) bytes"
        }
    }
}
