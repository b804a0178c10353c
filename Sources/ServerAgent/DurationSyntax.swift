/// Parses and prints the durations the agent's flags take: `500ms`, `1s`, `1.5s`, `2m`, `1h`.
public enum DurationSyntax {
    /// Why a duration string was rejected.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var input: String
        public var problem: String
        public var description: String {
            "invalid duration '\(input)': \(problem) (examples: 500ms, 1s, 1.5s, 2m)"
        }
    }

    private static let unitNanoseconds: [(suffix: String, nanoseconds: Int64)] = [
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
    ]

    /// Parses a number followed by a unit (`ms`, `s`, `m`, `h`). A bare number is rejected: `1`
    /// could mean a second or a millisecond, and guessing wrong costs an outage.
    public static func parse(_ text: String) throws(ParseError) -> Duration {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw ParseError(input: text, problem: "empty") }
        let numberPart = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unitPart = String(trimmed.dropFirst(numberPart.count))
        guard !numberPart.isEmpty else { throw ParseError(input: text, problem: "does not start with a number") }
        guard !unitPart.isEmpty else { throw ParseError(input: text, problem: "missing unit") }
        guard let unit = unitNanoseconds.first(where: { $0.suffix == unitPart }) else {
            throw ParseError(input: text, problem: "unknown unit '\(unitPart)'")
        }
        let pieces = numberPart.split(separator: ".", omittingEmptySubsequences: false)
        guard pieces.count <= 2, let wholeText = pieces.first, !(wholeText.isEmpty && pieces.count == 1) else {
            throw ParseError(input: text, problem: "malformed number")
        }
        let fractionText = pieces.count == 2 ? pieces[1] : ""
        guard !(wholeText.isEmpty && fractionText.isEmpty), fractionText.count <= 9 else {
            throw ParseError(input: text, problem: "malformed number")
        }
        guard let whole = wholeText.isEmpty ? 0 : Int64(wholeText) else {
            throw ParseError(input: text, problem: "number too large")
        }
        // The fraction is scaled by the unit exactly, in integers, so "0.1s" is 100ms, not 99.99...
        let fractionDigits = Int64(fractionText) ?? 0
        var fractionScale: Int64 = 1
        for _ in 0..<fractionText.count { fractionScale *= 10 }
        let (wholeNanos, overflow) = whole.multipliedReportingOverflow(by: unit.nanoseconds)
        guard !overflow else { throw ParseError(input: text, problem: "number too large") }
        let fractionNanos = fractionDigits * (unit.nanoseconds / fractionScale)
            + (fractionDigits * (unit.nanoseconds % fractionScale)) / fractionScale
        let (total, overflow2) = wholeNanos.addingReportingOverflow(fractionNanos)
        guard !overflow2 else { throw ParseError(input: text, problem: "number too large") }
        return .nanoseconds(total)
    }

    /// Prints a duration the way it would be typed: `500ms`, `2s`, `1.5s`.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        return "\(Double(milliseconds) / 1000)s"
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(self.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
