import Foundation

/// A file with a fresh name in the temporary folder (a config, an auth file, a marker), written
/// when given text; `remove()` deletes it.
public struct TemporaryFile: Sendable {
    public let path: String

    /// A new name `prefix-UUID` + `suffix` (".conf", say).
    public init(_ prefix: String, suffix: String = "", _ text: String? = nil) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)\(suffix)").path
        if let text { try write(text) }
    }

    /// Replaces the file's contents (atomically, as an editor saving a config would).
    public func write(_ text: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
