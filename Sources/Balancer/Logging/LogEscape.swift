/// `log_format ... escape=default|json|none`: how a variable's value goes into a log line
/// (`ngx_stream_log_escape`, `ngx_escape_json`). Literal text of the format is never escaped.
public enum LogEscape: String, Sendable, Equatable {
    /// Control bytes, `"`, `\`, DEL and bytes above 0x7F as `\xHH`; a missing value as `-`.
    case `default`
    /// JSON string escaping; a missing value as nothing.
    case json
    /// The bytes as they are; a missing value as nothing.
    case none

    private static let hex = Array("0123456789ABCDEF".utf8)

    /// nginx's table: 0x00-0x1F, `"`, `\`, 0x7F and 0x80-0xFF.
    @inline(__always)
    static func escapedByDefault(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte >= 0x7F
    }

    /// Appends `value` (nil: the variable has no value, nginx's `not_found`) escaped.
    public func append(_ value: [UInt8]?, into out: inout [UInt8]) {
        guard let value else {
            if self == .default { out.append(UInt8(ascii: "-")) }
            return
        }
        switch self {
        case .none:
            out.append(contentsOf: value)
        case .default:
            for byte in value {
                if Self.escapedByDefault(byte) {
                    out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "x"), Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 0xF)]])
                } else {
                    out.append(byte)
                }
            }
        case .json:
            for byte in value {
                switch byte {
                case UInt8(ascii: "\\"), UInt8(ascii: "\""):
                    out.append(contentsOf: [UInt8(ascii: "\\"), byte])
                case 0x0A: out.append(contentsOf: Array("\\n".utf8))
                case 0x0D: out.append(contentsOf: Array("\\r".utf8))
                case 0x09: out.append(contentsOf: Array("\\t".utf8))
                case 0x08: out.append(contentsOf: Array("\\b".utf8))
                case 0x0C: out.append(contentsOf: Array("\\f".utf8))
                case 0x00..<0x20:
                    // nginx: "\u00" then the high nibble as a digit, the low one as uppercase hex.
                    out.append(contentsOf: Array("\\u00".utf8))
                    out.append(UInt8(ascii: "0") + (byte >> 4))
                    out.append(Self.hex[Int(byte & 0xF)])
                default:
                    out.append(byte)
                }
            }
        }
    }
}
