/// The shared half of the chat protocol: who is on this server and what each command does.
///
/// A pure value with no I/O: the caller owns synchronisation and carries out the returned
/// ``ChatAction``s. Nicknames are unique per server, compared case-insensitively.
public struct ChatRoom: Sendable {
    /// Identifies one connection in the room.
    public struct MemberID: Hashable, Sendable, CustomStringConvertible {
        /// The raw value; unique for the lifetime of the room.
        public let rawValue: UInt64
        public var description: String { "member-\(self.rawValue)" }
    }

    /// The most nicknames a `WHO` reply lists, so the reply stays one short line with thousands online.
    public static let whoListLimit = 100
    /// The longest nickname accepted.
    public static let maxNickLength = 32

    /// The server's name, sent in the greeting and in answer to `WHERE`.
    public let serverName: String
    private var nicks: [MemberID: String] = [:]
    private var owners: [String: MemberID] = [:]
    private var nextID: UInt64 = 1

    /// Creates an empty room for the server called `serverName`.
    public init(serverName: String) {
        self.serverName = serverName
    }

    /// The number of members.
    public var count: Int { self.nicks.count }

    /// The nickname of `member`, if it is in the room.
    public func nick(of member: MemberID) -> String? {
        self.nicks[member]
    }

    /// Adds a new connection under a free `guestN` nickname.
    /// - Returns: its id and the greeting to send it.
    public mutating func join(clientAddress: String? = nil) -> (MemberID, [ChatAction]) {
        let id = MemberID(rawValue: self.nextID)
        self.nextID += 1
        var guest = "guest\(id.rawValue)"
        var suffix = 0
        while self.owners[guest] != nil {
            suffix += 1
            guest = "guest\(id.rawValue)-\(suffix)"
        }
        self.nicks[id] = guest
        self.owners[guest] = id
        return (id, [.reply("HELLO \(self.serverName)" + (clientAddress.map { " \($0)" } ?? ""))])
    }

    /// Removes a connection; unknown ids are ignored.
    public mutating func leave(_ member: MemberID) {
        guard let nick = self.nicks.removeValue(forKey: member) else { return }
        self.owners.removeValue(forKey: nick.lowercased())
    }

    /// Applies one command from `member` and returns what to send.
    public mutating func handle(_ command: ChatCommand, from member: MemberID) -> [ChatAction] {
        guard let current = self.nicks[member] else {
            // A command racing with the member's own disconnect: nothing to answer.
            return []
        }
        switch command {
        case .nick(let wanted):
            guard Self.isValidNick(wanted) else {
                return [.reply("ERR invalid nick (1-\(Self.maxNickLength) of A-Z a-z 0-9 _ -)")]
            }
            let key = wanted.lowercased()
            if let owner = self.owners[key], owner != member {
                return [.reply("ERR nick \(wanted) is taken")]
            }
            self.owners.removeValue(forKey: current.lowercased())
            self.owners[key] = member
            self.nicks[member] = wanted
            return [.reply("OK NICK \(wanted)")]
        case .say(let text):
            return [.broadcast("MSG \(current) \(text)")]
        case .who:
            let listed = self.nicks.values.sorted().prefix(Self.whoListLimit)
            return [.reply((["WHO", String(self.nicks.count)] + listed).joined(separator: " "))]
        case .where:
            return [.reply("WHERE \(self.serverName)")]
        case .ping(let token):
            return [.reply(token.map { "PONG \($0)" } ?? "PONG")]
        case .quit:
            return [.reply("BYE"), .close]
        }
    }

    /// Whether `nick` is acceptable: 1 to ``maxNickLength`` ASCII letters, digits, `_` or `-`.
    public static func isValidNick(_ nick: String) -> Bool {
        guard !nick.isEmpty, nick.utf8.count <= Self.maxNickLength else { return false }
        return nick.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }
}
