import MusterBase
import Testing

@Suite("untrusted text")
struct UntrustedTextTests {
    @Test func plainTextIsUnchanged() {
        #expect(UntrustedText.escaped("chat-1.example.com") == "chat-1.example.com")
        #expect(UntrustedText.escaped("zone=ä 東京") == "zone=ä 東京")
    }

    @Test func controlAndFormatCharactersAreEscaped() {
        #expect(UntrustedText.escaped("a\nb") == "a\\nb")
        #expect(UntrustedText.escaped("a\0b") == "a\\0b")
        #expect(UntrustedText.escaped("\u{1B}[31mred") == "\\u{1B}[31mred")
        #expect(UntrustedText.escaped("abc\u{202E}def") == "abc\\u{202E}def")
        #expect(UntrustedText.escaped("x\u{200B}y") == "x\\u{200B}y")
        #expect(UntrustedText.escaped("\u{85}") == "\\u{85}")
        #expect(UntrustedText.escaped("\u{2028}") == "\\u{2028}")
        #expect(UntrustedText.escaped("a\\nb") == "a\\\\nb")
    }

    @Test func longTextIsCutWithACount() {
        let long = String(repeating: "a", count: 1_000_000)
        let shown = UntrustedText.escaped(long, limit: 10)
        #expect(shown == "aaaaaaaaaa…(999990 more)")
    }

    @Test func invalidUTF8BytesAreShownAsHex() {
        #expect(UntrustedText.escaped(bytes: [0x61, 0xFF, 0x62]) == "a\\xFFb")
        #expect(UntrustedText.escaped(bytes: [0xC3, 0xA4]) == "ä")
        #expect(UntrustedText.escaped(bytes: [0xE2, 0x82]) == "\\xE2\\x82")
        // An overlong encoding of '/' is not valid UTF-8.
        #expect(UntrustedText.escaped(bytes: [0xC0, 0xAF]) == "\\xC0\\xAF")
        #expect(UntrustedText.escaped(bytes: [0xFE, 0x0A]) == "\\xFE\\n")
    }
}
