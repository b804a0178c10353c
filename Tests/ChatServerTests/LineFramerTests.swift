import ChatProtocol
import NIOCore
import Testing

@Suite struct LineFramerTests {
    private func frames(_ text: String, max: Int = 8) -> ([LineFramer.Frame], remaining: String) {
        let framer = LineFramer(maxLineLength: max)
        var buffer = ByteBuffer(string: text)
        var frames: [LineFramer.Frame] = []
        while let frame = framer.next(from: &buffer) {
            frames.append(frame)
            if frame == .tooLong { break }
        }
        return (frames, String(buffer: buffer))
    }

    @Test func splitsOnLFAndCRLF() {
        let (frames, remaining) = self.frames("ab\ncd\r\n\nef")
        #expect(frames == [.line(ByteBuffer(string: "ab")), .line(ByteBuffer(string: "cd")), .line(ByteBuffer())])
        #expect(remaining == "ef")
    }

    @Test func keepsPartialLineUntilNewlineArrives() {
        let framer = LineFramer(maxLineLength: 8)
        var buffer = ByteBuffer(string: "PI")
        #expect(framer.next(from: &buffer) == nil)
        buffer.writeString("NG\r")
        #expect(framer.next(from: &buffer) == nil)
        buffer.writeString("\n")
        #expect(framer.next(from: &buffer) == .line(ByteBuffer(string: "PING")))
        #expect(buffer.readableBytes == 0)
    }

    @Test func acceptsLineOfExactlyTheLimit() {
        #expect(self.frames("12345678\n").0 == [.line(ByteBuffer(string: "12345678"))])
        #expect(self.frames("12345678\r\n").0 == [.line(ByteBuffer(string: "12345678"))])
        // The limit plus a CR still waiting for its LF is not yet too long.
        #expect(self.frames("12345678\r").0 == [])
    }

    @Test func refusesLongerLines() {
        #expect(self.frames("123456789\n").0 == [.tooLong])
        #expect(self.frames("1234567890").0 == [.tooLong])
        #expect(self.frames("ok\n123456789\n").0 == [.line(ByteBuffer(string: "ok")), .tooLong])
    }
}
