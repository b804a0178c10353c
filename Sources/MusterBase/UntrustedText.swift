/// Text that came from outside the process (a member record, a ZooKeeper node name, a config
/// token, a request line) made safe to put in a log line, a terminal table or an admin answer.
///
/// Control characters (C0, DEL, C1), Unicode format characters (bidirectional overrides and
/// isolates, zero-width joiners, the BOM), line and paragraph separators and the backslash are
/// written as escapes (`\n`, `\t`, `\u{202E}`, `\\`), so a hostile value can neither forge a log
/// line, move an operator's cursor, reorder what a terminal shows, nor pass for a different
/// value. The result is cut to `limit` characters, with what was left off counted, so a 1 MB
/// value gives a short line.
public enum UntrustedText {
    /// The default cut: enough for any legitimate host, id or token, short enough for one line.
    public static let defaultLimit = 200

    /// `text`, escaped and cut to about `limit` characters of output.
    public static func escaped(_ text: some StringProtocol, limit: Int = defaultLimit) -> String {
        cut(text, limit: limit, piece: escape)
    }

    /// The one cut: each scalar's `piece` until `limit` characters are shown, then a count of
    /// the scalars left off.
    static func cut(_ text: some StringProtocol, limit: Int, piece: (Unicode.Scalar) -> String) -> String {
        var out = ""
        out.reserveCapacity(min(text.utf8.count, limit) + 8)
        var shown = 0
        var remaining = 0
        for scalar in text.unicodeScalars {
            if shown >= limit {
                remaining += 1
                continue
            }
            let written = piece(scalar)
            out += written
            shown += written.count
        }
        if remaining > 0 {
            out += "…(\(remaining) more)"
        }
        return out
    }

    /// Bytes that may not be UTF-8: valid sequences as in ``escaped(_:limit:)``, each byte that
    /// is not part of a valid sequence as `\xNN`.
    public static func escaped(bytes: some Collection<UInt8>, limit: Int = defaultLimit) -> String {
        let bytes = Array(bytes)
        if let text = String(validating: bytes, as: UTF8.self) {
            return escaped(text, limit: limit)
        }
        var out = ""
        var shown = 0
        var remaining = 0
        var index = 0
        while index < bytes.count {
            let piece: String
            if let (scalar, length) = decodeScalar(bytes, at: index) {
                piece = escape(scalar)
                index += length
            } else {
                piece = hexEscape(bytes[index])
                index += 1
            }
            if shown >= limit {
                remaining += 1
            } else {
                out += piece
                shown += piece.count
            }
        }
        if remaining > 0 { out += "…(\(remaining) more)" }
        return out
    }

    /// The scalar whose UTF-8 encoding starts at `index`, and its length; nil where the bytes
    /// there are not a valid, shortest-form sequence.
    private static func decodeScalar(_ bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let length = UTF8Sequence.length(in: bytes, at: index)
        guard length > 0, let text = String(validating: bytes[index..<(index + length)], as: UTF8.self),
            let scalar = text.unicodeScalars.first
        else { return nil }
        return (scalar, length)
    }

    /// Whether `scalar` is shown as itself.
    public static func isPlain(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\\" { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return false
        default:
            return true
        }
    }

    static func escape(_ scalar: Unicode.Scalar) -> String {
        if isPlain(scalar) { return String(Character(scalar)) }
        switch scalar {
        case "\\": return "\\\\"
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\0": return "\\0"
        default: return "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
        }
    }

    private static func hexEscape(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return "\\x" + (digits.count == 1 ? "0" + digits : digits)
    }
}
