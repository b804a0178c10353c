import MusterBase

/// A strict check of one JSON text (RFC 8259) before Foundation's `JSONDecoder` reads it.
///
/// `JSONDecoder` guesses the encoding (so UTF-16 and UTF-32 records are read), and when an object
/// names a key twice it silently keeps one of them, so two readers may see two different records.
/// This scanner accepts exactly RFC 8259's grammar in UTF-8 with no byte-order mark, at most
/// ``maximumDepth`` nested arrays and objects, and no object that names a key twice (compared after
/// escapes are decoded, so `"a"` and `"\u0061"` are the same key). It is total: any bytes give an
/// answer, never a trap. It allocates only the key sets of the objects it is inside.
enum StrictJSON {
    static let maximumDepth = 32

    enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        /// Not UTF-8 (a UTF-16/32 text, a byte-order mark, or an invalid sequence) at this offset.
        case notUTF8(offset: Int)
        /// Not JSON at this offset.
        case syntax(offset: Int)
        /// An object names this key twice; the offset is the second one.
        case duplicateKey(String, offset: Int)
        case tooDeep
        /// Valid JSON, but the top level is not an object.
        case notAnObject

        var description: String {
            switch self {
            case .notUTF8(let offset): "not UTF-8 at byte \(offset) (records are UTF-8 JSON, without a byte-order mark)"
            case .syntax(let offset): "not valid JSON at byte \(offset)"
            case .duplicateKey(let key, let offset): "duplicate key '\(UntrustedText.escaped(key, limit: 64))' at byte \(offset)"
            case .tooDeep: "nested deeper than \(StrictJSON.maximumDepth) levels"
            case .notAnObject: "not a JSON object"
            }
        }
    }

    /// nil if `bytes` are one JSON object as described above; otherwise the first problem found.
    static func checkObject(_ bytes: [UInt8]) -> Problem? {
        // A UTF-16/32 text of ASCII characters has NUL bytes at the start; a BOM is not JSON's either.
        if bytes.count >= 2, bytes[0] == 0 || bytes[1] == 0 { return .notUTF8(offset: bytes[0] == 0 ? 0 : 1) }
        if bytes.count >= 2, (bytes[0] == 0xFE && bytes[1] == 0xFF) || (bytes[0] == 0xFF && bytes[1] == 0xFE) {
            return .notUTF8(offset: 0)
        }
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { return .notUTF8(offset: 0) }
        return bytes.withUnsafeBufferPointer { buffer -> Problem? in
            var scanner = Scanner(bytes: buffer)
            do throws(Problem) {
                scanner.skipWhitespace()
                guard scanner.peek == UInt8(ascii: "{") else {
                    // Tell "valid JSON but not an object" from garbage.
                    try scanner.value(depth: 0)
                    scanner.skipWhitespace()
                    return scanner.atEnd ? .notAnObject : .syntax(offset: scanner.index)
                }
                try scanner.value(depth: 0)
                scanner.skipWhitespace()
                return scanner.atEnd ? nil : .syntax(offset: scanner.index)
            } catch {
                return error
            }
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        /// The current key, unescaped, reused across keys.
        var key: [UInt8] = []

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        var atEnd: Bool { index >= bytes.count }
        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func expect(_ byte: UInt8) throws(Problem) {
            guard peek == byte else { throw syntaxOrEncoding() }
            index += 1
        }

        /// A byte that cannot start anything here: a UTF-8 problem if it is not ASCII, else syntax.
        func syntaxOrEncoding() -> Problem {
            if let byte = peek, byte >= 0x80 { return .notUTF8(offset: index) }
            return .syntax(offset: index)
        }

        mutating func value(depth: Int) throws(Problem) {
            skipWhitespace()
            guard let byte = peek else { throw .syntax(offset: index) }
            switch byte {
            case UInt8(ascii: "{"): try object(depth: depth + 1)
            case UInt8(ascii: "["): try array(depth: depth + 1)
            case UInt8(ascii: "\""): try string(collecting: false)
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
            default: throw syntaxOrEncoding()
            }
        }

        mutating func object(depth: Int) throws(Problem) {
            guard depth <= StrictJSON.maximumDepth else { throw .tooDeep }
            if isEmpty(closedBy: UInt8(ascii: "}")) { return }
            var keys: Set<[UInt8]> = []
            while true {
                skipWhitespace()
                let keyOffset = index
                guard peek == UInt8(ascii: "\"") else { throw syntaxOrEncoding() }
                try string(collecting: true)
                guard keys.insert(key).inserted else {
                    throw .duplicateKey(String(decoding: key, as: UTF8.self), offset: keyOffset)
                }
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                try value(depth: depth)
                if try itemEnds(closedBy: UInt8(ascii: "}")) { return }
            }
        }

        mutating func array(depth: Int) throws(Problem) {
            guard depth <= StrictJSON.maximumDepth else { throw .tooDeep }
            if isEmpty(closedBy: UInt8(ascii: "]")) { return }
            while true {
                try value(depth: depth)
                if try itemEnds(closedBy: UInt8(ascii: "]")) { return }
            }
        }

        /// Steps over an object's or an array's opening bracket; true if `close` follows at once.
        mutating func isEmpty(closedBy close: UInt8) -> Bool {
            index += 1
            skipWhitespace()
            guard peek == close else { return false }
            index += 1
            return true
        }

        /// After an item of an object or an array: true at its `close`, false after the comma
        /// before the next item.
        mutating func itemEnds(closedBy close: UInt8) throws(Problem) -> Bool {
            skipWhitespace()
            guard let next = peek else { throw .syntax(offset: index) }
            index += 1
            if next == close { return true }
            guard next == UInt8(ascii: ",") else {
                index -= 1
                throw syntaxOrEncoding()
            }
            return false
        }

        mutating func literal(_ word: StaticString) throws(Problem) {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { throw .syntax(offset: index) }
            let start = word.utf8Start
            for offset in 0..<count where bytes[index + offset] != start[offset] {
                throw .syntax(offset: index + offset)
            }
            index += count
        }

        mutating func digits() -> Int {
            let start = index
            while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
            return index - start
        }

        mutating func number() throws(Problem) {
            if peek == UInt8(ascii: "-") { index += 1 }
            if peek == UInt8(ascii: "0") {
                index += 1
            } else {
                guard digits() > 0 else { throw .syntax(offset: index) }
            }
            if peek == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw .syntax(offset: index) }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                index += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw .syntax(offset: index) }
            }
        }

        mutating func hex4() throws(Problem) -> UInt32 {
            guard bytes.count - index >= 4 else { throw .syntax(offset: index) }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: throw .syntax(offset: index)
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }

        /// A string at `index` (which is its opening quote). With `collecting`, its unescaped
        /// UTF-8 is left in `key`.
        mutating func string(collecting: Bool) throws(Problem) {
            if collecting { key.removeAll(keepingCapacity: true) }
            index += 1  // "
            while true {
                guard let byte = peek else { throw .syntax(offset: index) }
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return
                case UInt8(ascii: "\\"):
                    let escapeOffset = index
                    index += 1
                    guard let kind = peek else { throw .syntax(offset: index) }
                    index += 1
                    let unescaped: UInt8
                    switch kind {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped = kind
                    case UInt8(ascii: "b"): unescaped = 0x08
                    case UInt8(ascii: "f"): unescaped = 0x0C
                    case UInt8(ascii: "n"): unescaped = 0x0A
                    case UInt8(ascii: "r"): unescaped = 0x0D
                    case UInt8(ascii: "t"): unescaped = 0x09
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            // A high surrogate must be followed by an escaped low one.
                            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                            else { throw .syntax(offset: escapeOffset) }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw .syntax(offset: escapeOffset) }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            throw .syntax(offset: escapeOffset)
                        }
                        if collecting, let unicode = Unicode.Scalar(scalar) {
                            UTF8.encode(unicode) { key.append($0) }
                        }
                        continue
                    default:
                        throw .syntax(offset: escapeOffset)
                    }
                    if collecting { key.append(unescaped) }
                case 0x00..<0x20:
                    // Control characters must be escaped inside strings.
                    throw .syntax(offset: index)
                case 0x20..<0x80:
                    if collecting { key.append(byte) }
                    index += 1
                default:
                    let length = try utf8Sequence()
                    if collecting { key.append(contentsOf: bytes[index..<(index + length)]) }
                    index += length
                }
            }
        }

        /// The length of the valid, shortest-form UTF-8 sequence (not a surrogate, at most
        /// U+10FFFF) at `index`, whose lead byte is 0x80 or above.
        func utf8Sequence() throws(Problem) -> Int {
            let length = UTF8Sequence.length(in: bytes, at: index)
            guard length > 0 else { throw .notUTF8(offset: index) }
            return length
        }
    }
}
