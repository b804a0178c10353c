import MusterBase
import Testing

@Suite("service path")
struct ServicePathTests {
    @Test("service, members, member: one layout, the root without a doubled slash")
    func layout() throws {
        let chat = try ServicePath("/muster/services/chat")
        #expect(chat.node == "/muster/services/chat")
        #expect(chat.members == "/muster/services/chat/members")
        #expect(chat.member("a-1") == "/muster/services/chat/members/a-1")
        #expect(throws: ServicePath.Invalid.self) { try ServicePath("/") }
        #expect(ServicePath.serviceProblem(with: "/")?.contains("root") == true)
        #expect(ServicePath.serviceProblem(with: "/muster/services/chat") == nil)
        #expect(ServicePath.problem(with: "/") == nil)
        #expect(ServicePath.members(of: "/s") == "/s/members")
        #expect(ServicePath.member("x", of: "/") == "/members/x")
        #expect(ServicePath.child("n", of: "/") == "/n")
    }

    @Test("ZooKeeper's own rule: structure, NUL, controls and reserved ranges", arguments: [
        ("no-slash", "starts with"), ("/a/", "does not end"), ("/a//b", "empty segment"), ("//", "does not end"),
        ("/a/./b", "segments"), ("/..", "segments"), ("/a\u{0}b", "U+0"), ("/a\u{1F}", "U+1F"), ("/a\u{7F}", "U+7F"),
        ("/a\u{9F}", "U+9F"), ("/a\u{E000}", "U+E000"), ("/a\u{FFF0}", "U+FFF0"), ("/a\u{1F600}", "U+1F600"),
    ])
    func zooKeeperRefuses(path: String, reason: String) throws {
        let problem = try #require(ServicePath.zooKeeperProblem(with: path))
        #expect(problem.contains(reason), "\(problem)")
        #expect(ServicePath.problem(with: path) == problem)
        let invalid = #expect(throws: ServicePath.Invalid.self) { try ServicePath(path) }
        #expect(invalid?.path == path && invalid?.problem == problem)
    }

    @Test("a configured path also shows as itself; ZooKeeper takes such names as node names")
    func configuredPathsAreStricter() {
        for (path, character) in [("/a b", "U+20"), ("/a\\b", "U+5C"), ("/a\u{202E}b", "U+202E"), ("/a\u{A0}", "U+A0")] {
            #expect(ServicePath.zooKeeperProblem(with: path) == nil, "\(path)")
            #expect(ServicePath.problem(with: path)?.contains(character) == true, "\(path)")
        }
        for path in ["/", "/muster", "/muster/services/chat-1", "/a.b/_c:d", "/dé"] {
            #expect(ServicePath.problem(with: path) == nil, "\(path)")
        }
    }
}
