#if canImport(Glibc)
import Glibc
#endif

/// The kernel's cap on every listening socket's accept queue (`net.core.somaxconn`): `listen(2)`
/// silently uses the smaller of it and the backlog asked for. A reconnect storm, and clients held
/// back by `accept_rate`, wait in that queue, so a backlog above the cap is a promise not kept.
package enum ListenQueueLimit {
    /// The cap now in force, nil where it cannot be read (not Linux, no /proc).
    package static func current(path: String = "/proc/sys/net/core/somaxconn") -> Int? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 32)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        let digits = line.prefix { $0 >= 48 && $0 <= 57 }.map { UInt8(bitPattern: $0) }
        guard let value = Int(String(decoding: digits, as: UTF8.self)), value > 0 else { return nil }
        return value
    }
}
