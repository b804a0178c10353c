/// What the room asks the connection layer to do after a command.
public enum ChatAction: Equatable, Sendable {
    /// Send a line to the member that sent the command (without line ending).
    case reply(String)
    /// Send a line to every member of the room, the sender included (without line ending).
    case broadcast(String)
    /// Close the sender's connection once the lines before this action are written.
    case close
}
