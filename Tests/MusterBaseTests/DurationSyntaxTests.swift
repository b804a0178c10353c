import MusterBase
import Testing

@Suite("duration syntax")
struct DurationSyntaxTests {
    static let validCases: [(String, Duration)] = [
        ("500ms", .milliseconds(500)), ("1m30s", .seconds(90)), ("1h 30m", .seconds(5400)),
        ("1y", .seconds(365 * 86400)), ("1M", .seconds(30 * 86400)), ("2w", .seconds(14 * 86400)),
        ("1d12h", .seconds(129_600)), ("1.5s", .milliseconds(1500)), ("0.5ms", .microseconds(500)),
        ("1.000000001s", .nanoseconds(1_000_000_001)), ("\t2s\n", .seconds(2)), ("366d", .seconds(366 * 86400)),
    ]

    @Test("one grammar: parts largest unit first, spaces between parts", arguments: validCases)
    func valid(text: String, expected: Duration) throws {
        #expect(try DurationSyntax.parse(text) == expected)
    }

    @Test("a bare number is seconds only where the caller says so")
    func bareNumbers() throws {
        #expect(throws: DurationSyntax.ParseError.self) { try DurationSyntax.parse("30") }
        #expect(try DurationSyntax.parse("30", bareNumber: .seconds) == .seconds(30))
        #expect(try DurationSyntax.parse("1m 30", bareNumber: .seconds) == .seconds(90))
        #expect(throws: DurationSyntax.ParseError.self) { try DurationSyntax.parse("30 1m", bareNumber: .seconds) }
        #expect(throws: DurationSyntax.ParseError.self) { try DurationSyntax.parse("1s 30", bareNumber: .seconds) }
    }

    @Test("fractions only where the caller allows them")
    func fractions() throws {
        #expect(try DurationSyntax.parse("1.5s") == .milliseconds(1500))
        let error = #expect(throws: DurationSyntax.ParseError.self) {
            try DurationSyntax.parse("1.5s", bareNumber: .seconds, fractions: false)
        }
        #expect(error?.problem.contains("1500ms") == true)
    }

    @Test("values beyond the largest supported duration are errors, never traps", arguments: [
        "1w106751991167d", "9223372036854775807h", "9223372036854775807", "99999999999999999999999999ms",
        "367d", "1y2d", "366d1ms", "106751991167d", "18446744073709551616s", "9223372036854.775807s",
        "1y 11M 4w 6d 23h 59m 59s 999ms", "999999999999999y",
    ])
    func overflow(text: String) {
        let error = #expect(throws: DurationSyntax.ParseError.self) {
            try DurationSyntax.parse(text, bareNumber: .seconds)
        }
        #expect(error?.problem.contains("largest supported duration") == true, "\(text): \(String(describing: error))")
    }

    @Test("the largest supported duration itself is accepted")
    func maximum() throws {
        #expect(try DurationSyntax.parse("366d") == DurationSyntax.maximum)
        #expect(try DurationSyntax.parse("52w2d") == DurationSyntax.maximum)
    }

    @Test("malformed text is an error", arguments: [
        "", " ", "s", "ms", "1x", "1s1m", "1ms1s", "1s 1s", "-1s", "+1s", "1 s", "1.s", ".s", "1..5s", "1.2.3s",
        "1e3s", "1sec", "1s;", "1ss", "0x10s", "١s", "1\u{0}s", "1s\u{0}", "1.0000000001s",
    ])
    func malformed(text: String) {
        #expect(throws: DurationSyntax.ParseError.self, "\(text)") { try DurationSyntax.parse(text, bareNumber: .seconds) }
    }

    @Test("the error shows the input escaped and cut")
    func errorText() {
        let huge = String(repeating: "9", count: 100_000) + "\u{1B}[2J"
        let error = #expect(throws: DurationSyntax.ParseError.self) { try DurationSyntax.parse(huge) }
        let text = error?.description ?? ""
        #expect(text.count < 300)
        #expect(!text.contains("\u{1B}"))
        let control = #expect(throws: DurationSyntax.ParseError.self) { try DurationSyntax.parse("1\ns") }
        #expect(control?.description.contains("1\\ns") == true)
    }

    @Test("format prints what parse reads back")
    func format() throws {
        for duration in [Duration.milliseconds(500), .seconds(2), .milliseconds(1500), .seconds(3600), DurationSyntax.maximum] {
            #expect(try DurationSyntax.parse(DurationSyntax.format(duration)) == duration)
        }
    }
}
