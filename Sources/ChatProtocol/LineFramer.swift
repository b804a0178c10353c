import NIOCore

/// Splits a byte stream into lines ended by LF or CRLF, refusing lines longer than a bound.
///
/// The framer keeps no state of its own beyond the bound: unconsumed bytes stay in the caller's
/// buffer, so a partial line simply waits for more input.
public struct LineFramer: Sendable {
    /// The result of one framing step.
    public enum Frame: Equatable, Sendable {
        /// One complete line, without its line ending.
        case line(ByteBuffer)
        /// The line being read is longer than ``LineFramer/maxLineLength``; the stream cannot be resynchronised.
        case tooLong
    }

    /// The longest line accepted, in bytes, not counting the line ending.
    public let maxLineLength: Int

    /// Creates a framer that accepts lines of at most `maxLineLength` bytes.
    public init(maxLineLength: Int) {
        self.maxLineLength = max(1, maxLineLength)
    }

    /// Takes the next complete line out of `buffer`.
    ///
    /// Returns `nil` when `buffer` holds no complete line yet and the partial line is still within
    /// the bound; the partial line is left in `buffer`.
    public func next(from buffer: inout ByteBuffer) -> Frame? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            // A CR may still be waiting for its LF, so allow one byte more than the bound.
            return buffer.readableBytes > self.maxLineLength + 1 ? .tooLong : nil
        }
        var length = newline - view.startIndex
        if length > 0, view[newline - 1] == UInt8(ascii: "\r") {
            length -= 1
        }
        guard length <= self.maxLineLength else {
            return .tooLong
        }
        // The index came from the view itself, so both reads are in range.
        let line = buffer.readSlice(length: length) ?? ByteBuffer()
        // View indices are buffer indices, so this skips the line ending too.
        buffer.moveReaderIndex(to: newline + 1)
        return .line(line)
    }
}
