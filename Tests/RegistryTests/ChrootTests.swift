@testable import Registry
import Testing

@Suite("chroot")
struct ChrootTests {
    @Test func mapsPathsBothWays() throws {
        let rooted = Chroot(prefix: "/muster/test")
        #expect(try rooted.serverPath("/services/x", operation: "get") == "/muster/test/services/x")
        #expect(try rooted.serverPath("/", operation: "get") == "/muster/test")
        #expect(rooted.clientPath("/muster/test/services/x") == "/services/x")
        #expect(rooted.clientPath("/muster/test") == "/")
        let plain = Chroot(prefix: "")
        #expect(try plain.serverPath("/a", operation: "get") == "/a")
        #expect(plain.clientPath("/a") == "/a")
    }

    @Test func matchesTheChrootOnComponentBoundariesOnly() throws {
        let rooted = Chroot(prefix: "/a")
        #expect(rooted.clientPath("/ab/c") == "/ab/c")
        #expect(rooted.clientPath("/ab") == "/ab")
        #expect(rooted.clientPath("/a/b") == "/b")
        #expect(rooted.clientPath("/a") == "/")
        #expect(try rooted.ancestors(of: "/b/c", operation: "create").map(\.client) == ["/", "/b"])
    }

    @Test func refusesWhatZooKeeperRefuses() {
        for path in ["no-slash", "/a/", "/a//b", "/a/./b", "/a\u{0}"] {
            #expect(throws: ZooKeeperError(.badArguments, operation: "get", path: path)) {
                try Chroot(prefix: "/r").serverPath(path, operation: "get")
            }
        }
    }

    @Test func ancestorsRunOutermostFirstAndMarkTheChroot() throws {
        let rooted = Chroot(prefix: "/muster/test")
        #expect(try rooted.ancestors(of: "/services/x", operation: "create") == [
            .init(server: "/muster", client: "/muster", outsideTree: true),
            .init(server: "/muster/test", client: "/", outsideTree: true),
            .init(server: "/muster/test/services", client: "/services", outsideTree: false),
        ])
        #expect(try Chroot(prefix: "").ancestors(of: "/a/b/c", operation: "create").map(\.client) == ["/a", "/a/b"])
        #expect(try Chroot(prefix: "").ancestors(of: "/", operation: "create") == [])
    }
}
