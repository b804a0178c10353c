import MusterBase
import Testing

@Suite("UntrustedText.displayed")
struct UntrustedTextDisplayedTests {
    @Test("escapes control and format characters, keeps backslashes, so escaped text is unchanged")
    func displayed() {
        #expect(UntrustedText.displayed("a\u{1B}[31m\u{202E}b\n") == #"a\u{1B}[31m\u{202E}b\n"#)
        let escaped = UntrustedText.escaped("x\u{1B}\\y")
        #expect(UntrustedText.displayed(escaped) == escaped)
        let cut = UntrustedText.displayed(String(repeating: "z", count: 10_000), limit: 100)
        #expect(cut == String(repeating: "z", count: 100) + "…(9900 more)")
    }
}
