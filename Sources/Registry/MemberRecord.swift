import Foundation
import MusterBase

/// What a ChatServer publishes about itself: the data of its ephemeral znode
/// `<service path>/members/<id>`, as a JSON object.
///
/// ```json
/// {"version":1,"id":"chat-1","host":"10.0.0.5","port":6000,"weight":1,"draining":false,"metadata":{"zone":"a"}}
/// ```
/// A member that deregisters on purpose first rewrites its record with `"leaving": "<reason>"`,
/// then deletes the node: balancers tell a member that leaves from one that is lost.
/// The format is described once, in docs/record.md. Readers take UTF-8 JSON
/// only and reject an object that names a key twice (``decode(_:)``); they read a record of a
/// newer `version` for the fields they know and ignore keys they do not know, so a writer can add
/// fields without older readers dropping its members. Adding a field: a property, its coding key,
/// a line in ``init(from:)`` (with its default for records that lack it) and its rule in
/// ``validate()`` (writers) or `validateFields()` (both); a balancer that acts on it reads it in
/// `PoolMember.take(_:)`, its one conversion from a record.
public struct MemberRecord: Codable, Sendable, Hashable {
    /// The format version this code writes.
    public static let formatVersion = 1
    // The limits (weight, id, size, metadata, leaving) are ``MemberLimits``.

    /// The format version the record was written in (a reader keeps what it read).
    public var version: Int
    /// The member's id, also its znode's name (``MemberLimits/isValidID(_:)``).
    public var id: String
    /// The host a balancer dials: an IP address or a DNS name (see ``HostSyntax``).
    public var host: String
    public var port: Int
    /// Relative share of new connections, ``MemberLimits/weights`` (nginx's `weight`).
    public var weight: Int
    /// A draining member takes no new connections; established ones continue.
    public var draining: Bool
    /// Free-form string pairs (zone, build, ...); at most ``MemberLimits/maximumMetadataEntries``. Untrusted text: escape it
    /// (`UntrustedText`) wherever it is shown.
    public var metadata: [String: String]
    /// Set when the member deregisters on purpose, just before its node is deleted: `shutdown`,
    /// `health: <last failure>` or `child exited ...`. Absent (nil) otherwise; readers that do not
    /// know the key ignore it. Untrusted text: escape it wherever it is shown.
    public var leaving: String?

    public init(id: String, host: String, port: Int, weight: Int = 1, draining: Bool = false, metadata: [String: String] = [:], leaving: String? = nil) {
        self.version = Self.formatVersion
        self.id = id
        self.host = host
        self.port = port
        self.weight = weight
        self.draining = draining
        self.metadata = metadata
        self.leaving = leaving
    }

    enum CodingKeys: String, CodingKey {
        case version, id, host, port, weight, draining, metadata, leaving
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
        leaving = try container.decodeIfPresent(String.self, forKey: .leaving)
    }

    /// The address a balancer dials.
    public var endpoint: Endpoint { Endpoint(host: host, port: port) }

    /// The address a balancer dials, `host:port` (IPv6 hosts in brackets).
    public var address: String { endpoint.description }

    /// Checks every field as a writer must: the error says which field is wrong.
    public func validate() throws(MemberRecordError) {
        guard (1...Self.formatVersion).contains(version) else {
            throw .invalid("version \(version) cannot be written; this code writes version \(Self.formatVersion)")
        }
        try validateFields()
        guard MemberLimits.weights.contains(weight) else {
            throw .invalid("weight \(weight) is out of range \(MemberLimits.weights.lowerBound)-\(MemberLimits.weights.upperBound)")
        }
        if let leaving, leaving.utf8.count > MemberLimits.maximumLeavingLength {
            throw .invalid("leaving reason is \(leaving.utf8.count) bytes; at most \(MemberLimits.maximumLeavingLength)")
        }
    }

    /// The rules a reader and a writer share (everything but the version and the weight's top).
    private func validateFields() throws(MemberRecordError) {
        guard version >= 1 else { throw .invalid("version must be >= 1, got \(version)") }
        guard MemberLimits.isValidID(id) else {
            throw .invalid(
                "id '\(UntrustedText.escaped(id, limit: 64))' must be \(MemberLimits.idLengths.lowerBound)-\(MemberLimits.idLengths.upperBound) characters of \(MemberLimits.idCharacters)")
        }
        guard HostSyntax.isValidMemberHost(host) else {
            throw .invalid(
                "host '\(UntrustedText.escaped(host, limit: 64))' is not an IP address or a DNS name "
                    + "(IPv6 without brackets, no port)")
        }
        guard (1...65535).contains(port) else { throw .invalid("port \(port) is out of range 1-65535") }
        guard weight >= 1 else {
            throw .invalid("weight \(weight) is below 1 (to take no new connections, set draining)")
        }
        guard metadata.count <= MemberLimits.maximumMetadataEntries else {
            throw .invalid("metadata has \(metadata.count) entries; at most \(MemberLimits.maximumMetadataEntries)")
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
        guard bytes.count <= MemberLimits.maximumRecordSize else {
            throw .tooLarge(bytes.count)
        }
        return bytes
    }

    /// Parses and validates a znode's data. Total: any bytes give a record or an error.
    public static func decode(_ bytes: [UInt8]) throws(MemberRecordError) -> MemberRecord {
        try decodeNoting(bytes).record
    }

    /// ``decode(_:)``, and what the reader made of fields it could not take as written (a weight
    /// above ``MemberLimits/weights`` read as the largest, a newer format version read for the fields this code
    /// knows), for a log line.
    public static func decodeNoting(_ bytes: [UInt8]) throws(MemberRecordError) -> (record: MemberRecord, notes: [String]) {
        guard bytes.count <= MemberLimits.maximumRecordSize else { throw .tooLarge(bytes.count) }
        guard !bytes.isEmpty else { throw .malformed("empty data") }
        // JSONDecoder would guess the encoding and keep one of two duplicate keys: check first.
        if let problem = StrictJSON.checkObject(bytes) {
            throw .malformed(problem.description)
        }
        let record: MemberRecord
        do {
            record = try JSONDecoder().decode(MemberRecord.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, _) {
            throw .malformed("missing field '\(UntrustedText.escaped(key.stringValue, limit: 64))'")
        } catch let DecodingError.typeMismatch(_, context) where !context.codingPath.isEmpty {
            throw .malformed("wrong type at '\(Self.describe(context.codingPath))'")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw .malformed("unreadable value at '\(Self.describe(context.codingPath))'")
        } catch {
            // Valid JSON (checked above), so a value did not fit its field, e.g. 1e30 or 1.5 as a port.
            throw .malformed("a field's value cannot be read (a number that is not an integer in range?)")
        }
        return try record.read()
    }

    /// The record as a reader takes it, and what the reader made of fields it could not take as
    /// written: the rules a reader and a writer share checked, a weight above the largest read as
    /// that, a newer format version read for the fields this code knows. ``decode(_:)`` applies it to
    /// a znode's data; a balancer applies it to every record it is handed (the registry's decoded
    /// ones pass unchanged), so this is the one rule of what a member may be.
    public func read() throws(MemberRecordError) -> (record: MemberRecord, notes: [String]) {
        try validateFields()
        var record = self
        var notes: [String] = []
        if version > Self.formatVersion {
            notes.append("format version \(version) is newer than this reader's (\(Self.formatVersion)): read for the fields it knows")
        }
        if weight > MemberLimits.weights.upperBound {
            notes.append("weight \(weight) read as \(MemberLimits.weights.upperBound), the largest weight")
            record.weight = MemberLimits.clampedWeight(weight)
        }
        return (record, notes)
    }

    private static func describe(_ path: [any CodingKey]) -> String {
        UntrustedText.escaped(path.map(\.stringValue).joined(separator: "."), limit: 64)
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
        case .tooLarge(let size): "member record of \(size) bytes exceeds \(MemberLimits.maximumRecordSize) bytes"
        }
    }
}
