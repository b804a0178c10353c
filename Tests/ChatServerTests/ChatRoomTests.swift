import ChatProtocol
import Testing

@Suite struct ChatRoomTests {
    @Test func greetsWithServerNameAndAssignsGuestNicks() {
        var room = ChatRoom(serverName: "chat-1")
        let (a, greeting) = room.join()
        let (b, _) = room.join()
        #expect(greeting == [.reply("HELLO chat-1")])
        #expect(room.nick(of: a) == "guest1")
        #expect(room.nick(of: b) == "guest2")
        #expect(room.count == 2)
    }

    @Test func nickIsUniqueCaseInsensitivelyAndFreedOnLeave() {
        var room = ChatRoom(serverName: "s")
        let (a, _) = room.join()
        let (b, _) = room.join()
        #expect(room.handle(.nick("Alice"), from: a) == [.reply("OK NICK Alice")])
        #expect(room.handle(.nick("alice"), from: b) == [.reply("ERR nick alice is taken")])
        // Re-taking your own nick in another case is allowed.
        #expect(room.handle(.nick("ALICE"), from: a) == [.reply("OK NICK ALICE")])
        room.leave(a)
        #expect(room.handle(.nick("alice"), from: b) == [.reply("OK NICK alice")])
        #expect(room.count == 1)
    }

    @Test func refusesInvalidNicks() {
        var room = ChatRoom(serverName: "s")
        let (a, _) = room.join()
        for bad in ["has space", "ünï", String(repeating: "x", count: 33), "a:b"] {
            #expect(room.handle(.nick(bad), from: a) == [.reply("ERR invalid nick (1-32 of A-Z a-z 0-9 _ -)")])
        }
        #expect(room.nick(of: a) == "guest1")
    }

    @Test func guestNickSkipsOneAlreadyTaken() {
        var room = ChatRoom(serverName: "s")
        let (a, _) = room.join()
        _ = room.handle(.nick("guest2"), from: a)
        let (b, _) = room.join()
        #expect(room.nick(of: b) == "guest2-1")
    }

    @Test func sayBroadcastsWithTheSendersNick() {
        var room = ChatRoom(serverName: "s")
        let (a, _) = room.join()
        _ = room.handle(.nick("bob"), from: a)
        #expect(room.handle(.say("hi all"), from: a) == [.broadcast("MSG bob hi all")])
    }

    @Test func whoWhereAndPing() {
        var room = ChatRoom(serverName: "chat-2")
        let (a, _) = room.join()
        let (b, _) = room.join()
        _ = room.handle(.nick("zed"), from: a)
        _ = room.handle(.nick("amy"), from: b)
        #expect(room.handle(.who, from: a) == [.reply("WHO 2 amy zed")])
        #expect(room.handle(.where, from: a) == [.reply("WHERE chat-2")])
        #expect(room.handle(.ping(nil), from: a) == [.reply("PONG")])
        #expect(room.handle(.ping("t1"), from: a) == [.reply("PONG t1")])
        #expect(room.handle(.quit, from: a) == [.reply("BYE"), .close])
    }

    @Test func whoListIsBoundedButCountsEveryone() throws {
        var room = ChatRoom(serverName: "s")
        var last: ChatRoom.MemberID?
        for _ in 0..<(ChatRoom.whoListLimit + 50) {
            last = room.join().0
        }
        let member = try #require(last)
        let reply = room.handle(.who, from: member)
        guard case .reply(let line) = reply.first else {
            Issue.record("WHO gave no reply: \(reply)")
            return
        }
        let words = line.split(separator: " ")
        #expect(words.first == "WHO")
        #expect(words.dropFirst().first == "\(ChatRoom.whoListLimit + 50)")
        #expect(words.count == 2 + ChatRoom.whoListLimit)
    }

    @Test func commandsFromAMemberThatLeftAreIgnored() {
        var room = ChatRoom(serverName: "s")
        let (a, _) = room.join()
        room.leave(a)
        #expect(room.handle(.say("ghost"), from: a) == [])
    }
}
