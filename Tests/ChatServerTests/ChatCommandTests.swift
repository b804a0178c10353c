import ChatProtocol
import Testing

@Suite struct ChatCommandTests {
    @Test func parsesEveryCommandCaseInsensitively() throws {
        #expect(try ChatCommand.parse("NICK alice") == .nick("alice"))
        #expect(try ChatCommand.parse("nick  alice") == .nick("alice"))
        #expect(try ChatCommand.parse("SAY hello  world ") == .say("hello  world "))
        #expect(try ChatCommand.parse("Say\tx") == .say("x"))
        #expect(try ChatCommand.parse("WHO") == .who)
        #expect(try ChatCommand.parse("where") == .where)
        #expect(try ChatCommand.parse("PING") == .ping(nil))
        #expect(try ChatCommand.parse("PING 42") == .ping("42"))
        #expect(try ChatCommand.parse("  QUIT") == .quit)
    }

    @Test func blankLinesAreNotCommands() throws {
        #expect(try ChatCommand.parse("") == nil)
        #expect(try ChatCommand.parse("  \t ") == nil)
    }

    @Test func reportsUnknownVerbsAndMissingArguments() {
        #expect(throws: ChatProtocolError.unknownCommand("HELO")) { try ChatCommand.parse("HELO there") }
        #expect(throws: ChatProtocolError.missingArgument(verb: "NICK", usage: "NICK name")) {
            try ChatCommand.parse("NICK ")
        }
        #expect(throws: ChatProtocolError.missingArgument(verb: "SAY", usage: "SAY text")) { try ChatCommand.parse("SAY") }
    }

    @Test func errorLinesStartWithERR() {
        let errors: [ChatProtocolError] = [
            .unknownCommand("X"), .missingArgument(verb: "SAY", usage: "SAY text"), .invalidEncoding, .lineTooLong(limit: 4096),
        ]
        for error in errors {
            #expect(error.errorLine.hasPrefix("ERR "))
        }
        #expect(ChatProtocolError.lineTooLong(limit: 4096).errorLine == "ERR line too long (limit 4096 bytes), closing")
    }
}
