/// The one check of a UTF-8 sequence in bytes from outside (a config file, a member record, text
/// to escape): shortest form, no surrogate, at most U+10FFFF, as `String(validating:)` reads them,
/// but at one position, so a caller can name the offset of the first bad byte.
public enum UTF8Sequence {
    /// The length (1 to 4) of the valid sequence that starts at `index`, or 0 when the bytes there
    /// do not start one.
    @inlinable
    public static func length<Bytes: RandomAccessCollection<UInt8>>(in bytes: Bytes, at index: Int) -> Int
    where Bytes.Index == Int {
        let length: Int
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch bytes[index] {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; second = 0x80...0x9F
        case 0xF0: length = 4; second = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; second = 0x80...0x8F
        default: return 0
        }
        guard bytes.endIndex - index >= length, second.contains(bytes[index + 1]) else { return 0 }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) {
            return 0
        }
        return length
    }
}
