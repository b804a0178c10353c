/// One client request of the chat line protocol.
public enum ChatCommand: Equatable, Sendable {
    /// `NICK name`: take a nickname.
    case nick(String)
    /// `SAY text`: send `text` to everyone on this server.
    case say(String)
    /// `WHO`: list the nicknames on this server.
    case who
    /// `WHERE`: name the server this connection is on.
    case `where`
    /// `PING [token]`: liveness check; answered with `PONG [token]`.
    case ping(String?)
    /// `QUIT`: say goodbye and close.
    case quit

    /// Parses one line (without its line ending).
    ///
    /// The verb is case-insensitive and separated from its argument by one or more spaces.
    /// - Returns: the command, or `nil` for a blank line (which clients such as telnet send).
    /// - Throws: ``ChatProtocolError`` naming what is wrong with the line.
    public static func parse(_ line: Substring) throws(ChatProtocolError) -> ChatCommand? {
        let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
        if trimmed.allSatisfy({ $0 == " " || $0 == "\t" }) {
            return nil
        }
        let verbEnd = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? trimmed.endIndex
        let verb = trimmed[..<verbEnd].uppercased()
        let rest = trimmed[verbEnd...].drop(while: { $0 == " " || $0 == "\t" })
        let argument = String(rest)

        switch verb {
        case "NICK":
            guard !argument.isEmpty else { throw .missingArgument(verb: "NICK", usage: "NICK name") }
            return .nick(argument)
        case "SAY":
            guard !argument.isEmpty else { throw .missingArgument(verb: "SAY", usage: "SAY text") }
            return .say(argument)
        case "WHO":
            return .who
        case "WHERE":
            return .where
        case "PING":
            return .ping(argument.isEmpty ? nil : argument)
        case "QUIT":
            return .quit
        default:
            throw .unknownCommand(String(trimmed[..<verbEnd].prefix(32)))
        }
    }
}
