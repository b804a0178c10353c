import MusterBase

/// Splits config bytes into tokens the way nginx's `ngx_conf_read_token` does.
///
/// Works on raw bytes so that any UTF-8 (or even invalid bytes) in comments passes through untouched;
/// columns count characters, not bytes, so positions after non-ASCII text still point right.
///
/// As in nginx, a word may hold any character: a quoted string keeps its newlines and tabs, and
/// `\n`, `\t`, `\r` make them. Which words may not (those that name a file, host, path or id)
/// is a question of meaning, answered where the directive is read (`ConfigReader.requireVisible`).
struct ConfigTokenizer {
    private let bytes: [UInt8]
    private let file: String
    private var index = 0
    private var line = 1
    private var column = 1

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
        // A UTF-8 byte order mark is an editor artefact, not content.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            index = 3
        }
    }

    /// A config is UTF-8 text: anything else is refused with the position of the first bad byte
    /// (a lossy decode would let `\xff` and `\xfe` in two names compare equal).
    static func requireUTF8(_ bytes: [UInt8], file: String) throws(ConfigError) {
        if String(validating: bytes, as: UTF8.self) != nil { return }
        var line = 1
        var column = 1
        var index = 0
        while index < bytes.count {
            let length = UTF8Sequence.length(in: bytes, at: index)
            guard length > 0 else {
                let byte = String(bytes[index], radix: 16, uppercase: true)
                throw ConfigError(
                    file: file, line: line, column: column,
                    message: "the file is not valid UTF-8 (byte 0x\(byte.count == 1 ? "0" + byte : byte) at offset \(index)); save it as UTF-8")
            }
            if bytes[index] == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else {
                column += 1
            }
            index += length
        }
    }

    /// All tokens, ending with `.endOfFile`.
    static func tokenize(bytes: [UInt8], file: String) throws(ConfigError) -> [ConfigToken] {
        var tokenizer = ConfigTokenizer(bytes: bytes, file: file)
        var tokens: [ConfigToken] = []
        while true {
            let token = try tokenizer.next()
            tokens.append(token)
            if token.kind == .endOfFile { return tokens }
        }
    }

    mutating func next() throws(ConfigError) -> ConfigToken {
        skipSpaceAndComments()
        guard index < bytes.count else {
            return ConfigToken(kind: .endOfFile, line: line, column: column)
        }
        let startLine = line
        let startColumn = column
        switch bytes[index] {
        case UInt8(ascii: ";"):
            advance()
            return ConfigToken(kind: .semicolon, line: startLine, column: startColumn)
        case UInt8(ascii: "{"):
            advance()
            return ConfigToken(kind: .openBrace, line: startLine, column: startColumn)
        case UInt8(ascii: "}"):
            advance()
            return ConfigToken(kind: .closeBrace, line: startLine, column: startColumn)
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            let text = try readQuoted(line: startLine, column: startColumn)
            return ConfigToken(kind: .word(text), line: startLine, column: startColumn, quoted: true)
        default:
            let text = readWord()
            return ConfigToken(kind: .word(text), line: startLine, column: startColumn)
        }
    }

    private mutating func advance() {
        let byte = bytes[index]
        index += 1
        if byte == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            // UTF-8 continuation bytes do not start a new character.
            column += 1
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "\n")
    }

    private static func endsWord(_ byte: UInt8) -> Bool {
        isSpace(byte) || byte == UInt8(ascii: ";") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}")
    }

    private mutating func skipSpaceAndComments() {
        while index < bytes.count {
            let byte = bytes[index]
            if Self.isSpace(byte) {
                advance()
            } else if byte == UInt8(ascii: "#") {
                // As in nginx, `#` opens a comment only where a token could start.
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") {
                    advance()
                }
            } else {
                return
            }
        }
    }

    private mutating func readWord() -> String {
        var text: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            if Self.endsWord(byte) { break }
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                advance()
                text.append(contentsOf: Self.unescape(bytes[index]))
                advance()
                continue
            }
            if byte == UInt8(ascii: "$"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "{") {
                // `${name}` keeps its braces inside the word, as nginx's variables do.
                while index < bytes.count {
                    let inner = bytes[index]
                    text.append(inner)
                    advance()
                    if inner == UInt8(ascii: "}") || Self.isSpace(inner) { break }
                }
                continue
            }
            text.append(byte)
            advance()
        }
        return String(decoding: text, as: UTF8.self)
    }

    private mutating func readQuoted(line startLine: Int, column startColumn: Int) throws(ConfigError) -> String {
        let quote = bytes[index]
        advance()
        var text: [UInt8] = []
        while true {
            guard index < bytes.count else {
                throw ConfigError(
                    file: file, line: startLine, column: startColumn,
                    message: "unexpected end of file: the quote opened here is never closed"
                )
            }
            let byte = bytes[index]
            if byte == quote {
                advance()
                break
            }
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                advance()
                text.append(contentsOf: Self.unescape(bytes[index]))
                advance()
                continue
            }
            text.append(byte)
            advance()
        }
        // nginx insists on a separator after a closing quote; `"a"b` is almost always a typo.
        if index < bytes.count, !Self.endsWord(bytes[index]) {
            let next = String(decoding: [bytes[index]], as: UTF8.self)
            throw ConfigError(
                file: file, line: line, column: column,
                message: "unexpected \"\(ConfigError.shown(next))\" right after a closing quote; put a space or \";\" after it"
            )
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// nginx resolves these escapes and keeps any other backslash pair as written.
    private static func unescape(_ byte: UInt8) -> [UInt8] {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "\\"): return [byte]
        case UInt8(ascii: "t"): return [UInt8(ascii: "\t")]
        case UInt8(ascii: "r"): return [UInt8(ascii: "\r")]
        case UInt8(ascii: "n"): return [UInt8(ascii: "\n")]
        default: return [UInt8(ascii: "\\"), byte]
        }
    }
}
