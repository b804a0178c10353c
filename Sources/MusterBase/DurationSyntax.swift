/// The one duration syntax of Muster: config times (`proxy_timeout 10m;`), the balancer's flags
/// (`--drain-timeout 30s`) and the agent's (`--interval 500ms`).
///
/// Grammar: one or more parts `NUMBER UNIT`, largest unit first and each unit at most once
/// (`1m30s`, `"1h 30m"`), optionally separated by spaces; surrounding whitespace is ignored.
/// Units: `ms`, `s`, `m` (minutes), `h`, `d`, `w`, `M` (30 days), `y` (365 days), as nginx's.
/// Two things differ by caller, each through a parameter: whether a bare number is seconds
/// (nginx's rule, and the balancer's flags) or an error (the agent's flags: `1` could be a second
/// or a millisecond, and guessing wrong costs an outage); and whether a part may have a decimal
/// fraction (`1.5s`, the flags) or not (the config, as in nginx, so a file means here what it
/// means to nginx).
///
/// Every step is checked for overflow, as nginx's `ngx_parse_time` does: a value longer than
/// ``maximum`` is an error, never a trap, so no later `now + duration` can overflow either.
public enum DurationSyntax: TextKind {
    /// What a number without a unit means.
    public enum BareNumber: Sendable {
        /// An error: `missing unit`.
        case rejected
        /// Seconds, as in nginx; only as the last part (`1m 30` is 90 s).
        case seconds
    }

    /// The largest supported duration: 366 days, more than any timeout needs, and far from the
    /// range where clock arithmetic or ZooKeeper's millisecond fields could overflow.
    public static let maximum: Duration = .seconds(maximumSeconds)
    static let maximumSeconds: Int64 = 366 * 86_400
    private static let maximumNanoseconds: Int64 = maximumSeconds * 1_000_000_000

    /// Why a duration was rejected: a sentence.
    public typealias Problem = String
    /// Why a duration was rejected. `description` shows the input escaped and cut.
    public typealias ParseError = RejectedText<DurationSyntax>

    public static var shownLimit: Int { 64 }

    public static func describe(_ shown: String, _ problem: String) -> String {
        "invalid duration '\(shown)': \(problem) (examples: 500ms, 1s, 1.5s, 2m, 1m30s)"
    }

    /// Units from largest to smallest; a part's unit must come later in this list than the
    /// previous part's.
    private static let units: [(suffix: [UInt8], nanoseconds: Int64)] = [
        (Array("y".utf8), 365 * 86_400 * 1_000_000_000),
        (Array("M".utf8), 30 * 86_400 * 1_000_000_000),
        (Array("w".utf8), 7 * 86_400 * 1_000_000_000),
        (Array("d".utf8), 86_400 * 1_000_000_000),
        (Array("h".utf8), 3_600 * 1_000_000_000),
        (Array("m".utf8), 60 * 1_000_000_000),
        (Array("s".utf8), 1_000_000_000),
        (Array("ms".utf8), 1_000_000),
    ]
    private static let secondsRank = 6

    /// Digits beyond this in a whole number make any unit exceed ``maximum``; the cut keeps the
    /// arithmetic far from `Int64`'s limits.
    private static let maximumWholeDigits = 15
    /// Nanoseconds are the finest step.
    private static let maximumFractionDigits = 9

    /// Parses `text`. Throws for anything outside the grammar and for values beyond ``maximum``.
    public static func parse(
        _ text: some StringProtocol, bareNumber: BareNumber = .rejected, fractions: Bool = true
    ) throws(ParseError) -> Duration {
        let bytes = Array(text.utf8)
        func fail(_ problem: String) -> ParseError { ParseError(input: text, problem: problem) }
        func isSpace(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
                || byte == UInt8(ascii: "\r")
        }
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        func isLetter(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
        }
        var start = 0
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        guard start < end else { throw fail("empty") }

        let tooLong = "longer than the largest supported duration (\(maximumSeconds / 86_400)d)"
        var total: Int64 = 0
        var previousRank = -1
        var index = start
        while index < end {
            if bytes[index] == UInt8(ascii: " ") {
                index += 1
                continue
            }
            // NUMBER: digits, then (where allowed) a decimal point and digits.
            var whole: Int64 = 0
            var wholeDigits = 0
            while index < end, isDigit(bytes[index]) {
                wholeDigits += 1
                if wholeDigits > maximumWholeDigits { throw fail(tooLong) }
                whole = whole * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            var fraction: Int64 = 0
            var fractionScale: Int64 = 1
            if index < end, bytes[index] == UInt8(ascii: ".") {
                guard fractions else {
                    throw fail("fractions are not supported here; use a smaller unit (1500ms, not 1.5s)")
                }
                index += 1
                var fractionDigits = 0
                while index < end, isDigit(bytes[index]) {
                    fractionDigits += 1
                    if fractionDigits > maximumFractionDigits {
                        throw fail("more than \(maximumFractionDigits) decimal places")
                    }
                    fraction = fraction * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                    fractionScale *= 10
                    index += 1
                }
                guard fractionDigits > 0 else { throw fail("malformed number: digits must follow the decimal point") }
            } else if wholeDigits == 0 {
                throw fail(previousRank < 0 ? "does not start with a number" : "malformed: expected a number after the previous part")
            }

            // UNIT: letters.
            let unitStart = index
            while index < end, isLetter(bytes[index]) { index += 1 }
            let unitText = bytes[unitStart..<index]
            let rank: Int
            if unitText.isEmpty {
                if index < end, bytes[index] != UInt8(ascii: " ") {
                    throw fail("unexpected character after the number")
                }
                guard case .seconds = bareNumber else { throw fail("missing unit") }
                guard bytes[index..<end].allSatisfy({ $0 == UInt8(ascii: " ") }) else {
                    throw fail("a number without a unit (seconds) must be the last part")
                }
                rank = secondsRank
            } else {
                guard let found = units.firstIndex(where: { $0.suffix.elementsEqual(unitText) }) else {
                    throw fail("unknown unit '\(UntrustedText.escaped(bytes: unitText, limit: 16))' (use ms, s, m, h, d, w, M or y)")
                }
                rank = found
                if index < end, !isDigit(bytes[index]), bytes[index] != UInt8(ascii: " ") {
                    throw fail("unexpected character after the unit")
                }
            }
            guard rank > previousRank else {
                throw fail("units must go from the largest to the smallest, each once (1m30s, not 30s1m)")
            }
            previousRank = rank

            // whole * unit + fraction * unit / scale, exactly and without overflow: whole has at most
            // 15 digits (the multiplication reports overflow); the fraction term is split as
            // (q * scale + r) * f / scale = q * f + r * f / scale, with f < scale <= 10^9 and r < scale.
            let unit = units[rank].nanoseconds
            let (wholeNanoseconds, overflow) = whole.multipliedReportingOverflow(by: unit)
            guard !overflow else { throw fail(tooLong) }
            let fractionNanoseconds = (unit / fractionScale) * fraction + (unit % fractionScale) * fraction / fractionScale
            let (part, overflow2) = wholeNanoseconds.addingReportingOverflow(fractionNanoseconds)
            guard !overflow2 else { throw fail(tooLong) }
            let (sum, overflow3) = total.addingReportingOverflow(part)
            guard !overflow3, sum <= maximumNanoseconds else { throw fail(tooLong) }
            total = sum
        }
        return .nanoseconds(total)
    }

    /// Prints a duration the way it would be typed: `500ms`, `2s`, `1.5s`.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return "\(seconds)s" }
        let milliseconds = scaled + attoseconds / 1_000_000_000_000_000
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        return "\(Double(milliseconds) / 1000)s"
    }
}
