import Testing

@testable import Balancer

@Suite("Config tokenizer and directive tree")
struct ConfigTokenizerTests {
    static func tokens(_ text: String) throws -> [ConfigToken] {
        try ConfigTokenizer.tokenize(bytes: Array(text.utf8), file: "t.conf")
    }

    @Test("words, punctuation and positions; columns count characters, not bytes")
    func positions() throws {
        let tokens = try Self.tokens("a \"é✓\" b;\n  c{d}")
        #expect(tokens.map(\.kind) == [.word("a"), .word("é✓"), .word("b"), .semicolon, .word("c"), .openBrace, .word("d"), .closeBrace, .endOfFile])
        #expect(tokens.map { [$0.line, $0.column] } == [[1, 1], [1, 3], [1, 8], [1, 9], [2, 3], [2, 4], [2, 5], [2, 6], [2, 7]])
        #expect(tokens[1].quoted && !tokens[0].quoted)
    }

    @Test("comments run to end of line, only where a token can start")
    func comments() throws {
        let tokens = try Self.tokens("a#b # comment; { }\n# 全角コメント；\nc;")
        #expect(tokens.map(\.kind) == [.word("a#b"), .word("c"), .semicolon, .endOfFile])
        #expect(tokens[1].line == 3)
    }

    @Test("escapes and nginx variables")
    func escapes() throws {
        let tokens = try Self.tokens(#"'it\'s' "tab\there" ${remote_addr}x a\;b"#)
        #expect(tokens.map(\.kind) == [.word("it's"), .word("tab\there"), .word("${remote_addr}x"), .word("a\\;b"), .endOfFile])
    }

    @Test("as nginx reads them: a quoted string keeps its newlines, escapes work quoted or not, other backslashes stay, any character is a word's")
    func quotedStrings() throws {
        let tokens = try Self.tokens("return \"$a:\n   $b\"; x 'a\\nb' c\\td \"\\x\\$\" e\u{1}f;")
        #expect(tokens.map(\.kind) == [
            .word("return"), .word("$a:\n   $b"), .semicolon, .word("x"), .word("a\nb"), .word("c\td"), .word("\\x\\$"), .word("e\u{1}f"),
            .semicolon, .endOfFile,
        ])
        // Positions after a newline inside quotes count it.
        #expect([tokens[3].line, tokens[3].column] == [2, 9])
    }

    @Test("invalid UTF-8 in a comment is harmless")
    func invalidUTF8() throws {
        var bytes = Array("# ".utf8)
        bytes += [0xFF, 0xFE, 0xC3]
        bytes += Array("\nx;".utf8)
        let tokens = try ConfigTokenizer.tokenize(bytes: bytes, file: "t.conf")
        #expect(tokens.map(\.kind) == [.word("x"), .semicolon, .endOfFile])
        #expect(tokens[0].line == 2 && tokens[0].column == 1)
    }

    @Test("the directive tree nests blocks and keeps argument positions")
    func tree() throws {
        let tree = try ConfigDirective.parseTree(Self.tokens("stream {\n  upstream u { server h:1 weight=2; }\n}\n"), file: "t.conf")
        #expect(tree.count == 1 && tree[0].name == "stream" && tree[0].arguments.isEmpty)
        let upstream = try #require(tree[0].block?.first)
        #expect(upstream.name == "upstream" && upstream.arguments.map(\.text) == ["u"])
        let server = try #require(upstream.block?.first)
        #expect(server.block == nil)
        #expect(server.arguments.map(\.text) == ["h:1", "weight=2"])
        #expect(server.arguments.map { [$0.line, $0.column] } == [[2, 23], [2, 27]])
    }
}
