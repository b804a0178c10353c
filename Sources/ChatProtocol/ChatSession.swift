import NIOCore

/// The per-connection half of the chat protocol: turns received bytes into commands and errors.
///
/// A pure state machine with no I/O: the channel handler feeds it bytes and carries out the
/// returned events in order. After it returns ``Event/close`` it ignores all further input.
public struct ChatSession: Sendable {
    /// What the connection should do next.
    public enum Event: Equatable, Sendable {
        /// A well-formed command to hand to the room.
        case command(ChatCommand)
        /// A line to send back to this client only (without line ending).
        case reply(String)
        /// Flush what was queued and close the connection.
        case close
    }

    private enum State: Sendable {
        case open
        case closing
    }

    private let framer: LineFramer
    private var state: State = .open

    /// Creates a session that accepts lines of at most `maxLineLength` bytes.
    public init(maxLineLength: Int) {
        self.framer = LineFramer(maxLineLength: maxLineLength)
    }

    /// True once the session has decided to close; later input is discarded.
    public var isClosing: Bool {
        if case .closing = self.state { return true }
        return false
    }

    /// Consumes every complete line in `buffer` and returns what to do, in order.
    ///
    /// An incomplete trailing line stays in `buffer` for the next call.
    public mutating func receive(_ buffer: inout ByteBuffer) -> [Event] {
        var events: [Event] = []
        while case .open = self.state, let frame = self.framer.next(from: &buffer) {
            switch frame {
            case .tooLong:
                events.append(.reply(ChatProtocolError.lineTooLong(limit: self.framer.maxLineLength).errorLine))
                events.append(.close)
                self.state = .closing
            case .line(let line):
                guard let text = String(validating: line.readableBytesView, as: UTF8.self) else {
                    events.append(.reply(ChatProtocolError.invalidEncoding.errorLine))
                    continue
                }
                do {
                    if let command = try ChatCommand.parse(Substring(text)) {
                        events.append(.command(command))
                        if command == .quit {
                            // The room answers QUIT; nothing after it on this connection counts.
                            self.state = .closing
                        }
                    }
                } catch {
                    events.append(.reply(error.errorLine))
                }
            }
        }
        if self.isClosing {
            buffer.moveReaderIndex(to: buffer.writerIndex)
        }
        return events
    }
}
