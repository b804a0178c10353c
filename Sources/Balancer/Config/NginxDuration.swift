/// nginx time values: `500ms`, `1s`, `30s`, `10m`, `1h`, `1d`, `1w`, `1M`, `1y`, combined as `1m30s`
/// (largest unit first, as nginx requires); a bare number is seconds.
enum NginxDuration {
    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("y", 365 * 86_400_000), ("M", 30 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000),
        ("h", 3_600_000), ("ms", 1), ("m", 60_000), ("s", 1000),
    ]
    /// Unit order from largest to smallest; each part must use a smaller unit than the one before.
    private static let rank: [String: Int] = ["y": 0, "M": 1, "w": 2, "d": 3, "h": 4, "m": 5, "s": 6, "ms": 7]
    /// nginx's own limit for millisecond values (`NGX_MAX_INT32_VALUE` ms is about 24 days, but
    /// nginx accepts more on 64-bit); a year is plenty for any timeout and keeps arithmetic safe.
    private static let maximumMilliseconds: Int64 = 366 * 86_400_000

    /// Parses `text`; nil when it is not a valid nginx time.
    static func parse(_ text: String) -> Duration? {
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        var total: Int64 = 0
        var lastRank = -1
        while !rest.isEmpty {
            while rest.first == " " { rest = rest.dropFirst() }
            if rest.isEmpty { break }
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 12, let value = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unitText = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unitText.count)
            let scale: Int64
            let unitRank: Int
            if unitText.isEmpty {
                // A trailing bare number counts as seconds; it must be the last part.
                guard rest.allSatisfy({ $0 == " " }) else { return nil }
                scale = 1000
                unitRank = 6
            } else {
                guard let unit = units.first(where: { $0.suffix == unitText }), let r = rank[unit.suffix] else {
                    return nil
                }
                scale = unit.milliseconds
                unitRank = r
            }
            guard unitRank > lastRank else { return nil }
            lastRank = unitRank
            let (product, overflow) = value.multipliedReportingOverflow(by: scale)
            guard !overflow else { return nil }
            total += product
            guard total <= maximumMilliseconds else { return nil }
        }
        return .milliseconds(total)
    }
}
