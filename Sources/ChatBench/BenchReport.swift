#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A mode's result: printed as a two-column table, or as JSON for scripts.
protocol BenchReport: Encodable {
    var title: String { get }
    var rows: [(String, String)] { get }
}

extension BenchReport {
    func emit(json: Bool) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(self)
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let width = self.rows.map(\.0.count).max() ?? 0
        print(self.title)
        for (key, value) in self.rows {
            print("  " + key + String(repeating: " ", count: width - key.count) + "  " + value)
        }
    }
}
