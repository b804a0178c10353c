#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A mode's result: printed as a two-column table, or as JSON for scripts.
protocol BenchReport: Encodable {
    var mode: String { get }
    var target: String { get }
    /// The table's rows of figures; the first error, if any, follows them.
    var figures: [(String, String)] { get }
    var firstError: String? { get }
    var firstErrorLabel: String { get }
    var title: String { get }
}

extension BenchReport {
    var firstError: String? { nil }
    var firstErrorLabel: String { "first error" }
    var title: String { "\(self.mode) against \(self.target)" }

    var rows: [(String, String)] {
        guard let firstError = self.firstError else { return self.figures }
        return self.figures + [(self.firstErrorLabel, firstError)]
    }

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
