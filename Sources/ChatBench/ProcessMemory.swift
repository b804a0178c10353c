#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads a process's resident memory from /proc/<pid>/status (Linux only).
enum ProcessMemory {
    /// VmRSS of `pid` in bytes, or nil when the process or the field does not exist.
    static func residentBytes(pid: Int32) -> UInt64? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/status") else { return nil }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmRSS:") {
            // "VmRSS:\t   12345 kB"
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kib = UInt64(fields[1]) else { return nil }
            return kib * 1024
        }
        return nil
    }

    /// The sum of VmRSS over `pids` (e.g. every nginx worker), or nil if any is unreadable.
    static func residentBytes(pids: [Int32]) -> UInt64? {
        var total: UInt64 = 0
        for pid in pids {
            guard let bytes = self.residentBytes(pid: pid) else { return nil }
            total += bytes
        }
        return total
    }
}
