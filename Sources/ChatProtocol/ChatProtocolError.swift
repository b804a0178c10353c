/// What is wrong with a line a client sent; rendered to the client as an `ERR` line.
public enum ChatProtocolError: Error, Equatable, Sendable {
    /// The verb is not one the server knows.
    case unknownCommand(String)
    /// The verb needs an argument that is missing.
    case missingArgument(verb: String, usage: String)
    /// The line is not valid UTF-8.
    case invalidEncoding
    /// The line is longer than the server accepts; the connection is closed after the error.
    case lineTooLong(limit: Int)

    /// The `ERR ...` line sent to the client (without line ending).
    public var errorLine: String {
        switch self {
        case .unknownCommand(let verb):
            return "ERR unknown command \(verb) (try NICK, SAY, WHO, WHERE, PING, QUIT)"
        case .missingArgument(let verb, let usage):
            return "ERR \(verb) needs an argument: \(usage)"
        case .invalidEncoding:
            return "ERR line is not valid UTF-8"
        case .lineTooLong(let limit):
            return "ERR line too long (limit \(limit) bytes), closing"
        }
    }
}
