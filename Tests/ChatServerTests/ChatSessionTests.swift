import ChatProtocol
import NIOCore
import Testing

@Suite struct ChatSessionTests {
    @Test func turnsLinesIntoCommandsAndErrorsInOrder() {
        var session = ChatSession(maxLineLength: 64)
        var buffer = ByteBuffer(string: "NICK a\r\nBOGUS\n\nSAY hi\nWH")
        #expect(
            session.receive(&buffer) == [
                .command(.nick("a")),
                .reply("ERR unknown command BOGUS (try NICK, SAY, WHO, WHERE, PING, QUIT)"),
                .command(.say("hi")),
            ]
        )
        #expect(String(buffer: buffer) == "WH")
        buffer.writeString("ERE\n")
        #expect(session.receive(&buffer) == [.command(.where)])
        #expect(!session.isClosing)
    }

    @Test func ignoresEverythingAfterQuit() {
        var session = ChatSession(maxLineLength: 64)
        var buffer = ByteBuffer(string: "PING\nQUIT\nSAY too late\n")
        #expect(session.receive(&buffer) == [.command(.ping(nil)), .command(.quit)])
        #expect(session.isClosing)
        #expect(buffer.readableBytes == 0)
        var more = ByteBuffer(string: "PING\n")
        #expect(session.receive(&more) == [])
    }

    @Test func tooLongLineGetsErrorThenClose() {
        var session = ChatSession(maxLineLength: 16)
        var buffer = ByteBuffer(string: "PING\n" + String(repeating: "x", count: 40))
        #expect(
            session.receive(&buffer) == [
                .command(.ping(nil)),
                .reply("ERR line too long (limit 16 bytes), closing"),
                .close,
            ]
        )
        #expect(session.isClosing)
    }

    @Test func invalidUTF8IsReportedAndTheConnectionContinues() {
        var session = ChatSession(maxLineLength: 64)
        var buffer = ByteBuffer(bytes: [0x53, 0x41, 0x59, 0x20, 0xFF, 0xFE, 0x0A] + Array("PING\n".utf8))
        #expect(session.receive(&buffer) == [.reply("ERR line is not valid UTF-8"), .command(.ping(nil))])
    }
}
