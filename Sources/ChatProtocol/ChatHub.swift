import NIOCore
import NIOConcurrencyHelpers

/// Owns the room of one chat server and the channel of every member, across all event loops.
///
/// The room logic runs under one lock; writes to other members happen after the lock is released,
/// so a broadcast never holds up other loops while it writes.
public final class ChatHub: Sendable {
    private struct State {
        var room: ChatRoom
        var channels: [ChatRoom.MemberID: any Channel] = [:]
    }

    private let state: NIOLockedValueBox<State>

    /// Creates the hub for the server called `serverName`.
    public init(serverName: String) {
        self.state = NIOLockedValueBox(State(room: ChatRoom(serverName: serverName)))
    }

    /// The number of connected members.
    public var memberCount: Int {
        self.state.withLockedValue { $0.room.count }
    }

    /// Adds `channel` to the room; returns its id and the lines to send it (the greeting).
    public func join(_ channel: any Channel, clientAddress: String? = nil) -> (ChatRoom.MemberID, [ChatAction]) {
        self.state.withLockedValue { state in
            let (id, actions) = state.room.join(clientAddress: clientAddress)
            state.channels[id] = channel
            return (id, actions)
        }
    }

    /// Removes a member; called once its channel is inactive.
    public func leave(_ member: ChatRoom.MemberID) {
        self.state.withLockedValue { state in
            state.room.leave(member)
            state.channels.removeValue(forKey: member)
        }
    }

    /// Applies `command`, delivers any broadcast, and returns the actions for the sender alone.
    public func handle(_ command: ChatCommand, from member: ChatRoom.MemberID) -> [ChatAction] {
        var broadcasts: [String] = []
        var targets: [any Channel] = []
        let actions = self.state.withLockedValue { state in
            let actions = state.room.handle(command, from: member)
            for case .broadcast(let line) in actions {
                broadcasts.append(line)
            }
            if !broadcasts.isEmpty {
                targets = Array(state.channels.values)
            }
            return actions
        }
        for line in broadcasts {
            Self.deliver(line, to: targets)
        }
        return actions.filter {
            if case .broadcast = $0 { return false }
            return true
        }
    }

    /// Sends `line` to every member; used to say goodbye on shutdown.
    public func broadcast(_ line: String) {
        let targets = self.state.withLockedValue { Array($0.channels.values) }
        Self.deliver(line, to: targets)
    }

    private static func deliver(_ line: String, to targets: [any Channel]) {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(line.utf8.count + 1)
        buffer.writeString(line)
        buffer.writeInteger(UInt8(ascii: "\n"))
        for channel in targets where channel.isWritable {
            // A member that does not read its socket stops getting messages instead of making the
            // server buffer without bound (the outbound buffer is above its high-water mark).
            channel.writeAndFlush(buffer, promise: nil)
        }
    }
}
