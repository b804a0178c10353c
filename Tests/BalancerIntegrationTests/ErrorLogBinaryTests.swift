import Foundation
import TestSupport
import Testing

/// `error_log` in `server` blocks and to syslog, through the real executable: where a session's
/// messages go, at which levels, in which form, and SIGUSR1.
@Suite("balancer executable: per-server error_log and syslog", .serialized, .timeLimit(.minutes(2)))
struct ErrorLogBinaryTests {
    /// A folder holding `nginx.conf`: the main `error_log main.log info`, one server on a free
    /// port proxying to `member` with the server-block lines `server`.
    struct Scene {
        let dir: String
        let port: Int

        /// The balancer run on a fresh scene whose member is `member`, else backend "a". After
        /// `body` it must quit on SIGQUIT; then it is killed if it still runs, and all is removed.
        static func with(
            member: String? = nil, server: String, _ body: (Scene, _ balancer: ChildProcess) async throws -> Void
        ) async throws {
            try await TestScene.with { scene in
                var upstream = member ?? ""
                if member == nil {
                    upstream = "127.0.0.1:\(try await scene.backend("a").port)"
                }
                let made = Scene(dir: try scene.folder("muster-error-log"), port: try freeLoopbackPort())
                let text = """
                    error_log main.log info;
                    stream {
                      upstream u { server \(upstream); }
                      server { listen 127.0.0.1:\(made.port); proxy_pass u; \(server) }
                      admin 127.0.0.1:0;
                    }
                    """
                try text.write(toFile: "\(made.dir)/nginx.conf", atomically: true, encoding: .utf8)
                let balancer = try scene.process("balancer", ["run", "--prefix", "\(made.dir)/", "--config", "nginx.conf"])
                try await body(made, balancer)
                #expect(await balancer.exitStatus(after: SIGQUIT) == 0, "\(balancer.errorOutput)")
            }
        }

        func read(_ name: String) -> String {
            ProcessDirectivesBinaryTests.read("\(dir)/\(name)") ?? ""
        }
    }

    @Test("a server's error_log has its session's connect failure in nginx's words; the main log has none of it; a warn log keeps the error and drops the info lines")
    func perServerLog() async throws {
        let dead = try DeadPort()
        // Marked throwing: its only `try`s are inside #expect, which the closure's effect inference does not see.
        try await Scene.with(member: "127.0.0.1:\(dead.port)", server: "error_log server.log info; error_log warn.log warn;") { (scene, balancer) async throws in
            #expect(await waitUntil { scene.read("main.log").contains("balancer started") }, "\(balancer.errorOutput)")
            #expect(try await TestClient.name(port: scene.port) == nil)
            let failure = "connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: 127.0.0.1:\(scene.port), upstream: \"127.0.0.1:\(dead.port)\", bytes from/to client:0/0, bytes from/to upstream:0/0"
            // `*N` is the session's `$connection` (interleaved per worker, so not always 1).
            #expect(await waitUntil { scene.read("server.log").contains(" \(failure)\n") })
            #expect(scene.read("server.log").contains("[error] \(balancer.pid)#0: *"))
            #expect(scene.read("server.log").contains("[info] \(balancer.pid)#0: *"))
            #expect(scene.read("server.log").contains(" client 127.0.0.1:"))
            #expect(scene.read("server.log").contains(" connected to 127.0.0.1:\(scene.port)\n"))
            #expect(scene.read("warn.log").contains(failure))
            #expect(!scene.read("warn.log").contains("[info]"))
            // The session's messages are the listener's: the main log has neither them nor the summary.
            #expect(!scene.read("main.log").contains("connect() failed"))
            #expect(!scene.read("main.log").contains("upstream connect failed"))
            #expect(!scene.read("main.log").contains("no live upstreams"))
            #expect(scene.read("main.log").contains("[notice] \(balancer.pid)#0: balancer starting, follows: nginx/"))
        }
    }

    @Test("after logrotate's rename SIGUSR1 opens a new server error log, where the next session's lines go")
    func reopen() async throws {
        try await Scene.with(server: "error_log server.log info;") { scene, balancer in
            #expect(await waitUntil { (try? await TestClient.name(port: scene.port)) == "a" })
            #expect(await waitUntil { scene.read("server.log").contains(" client 127.0.0.1:") })
            try FileManager.default.moveItem(atPath: "\(scene.dir)/server.log", toPath: "\(scene.dir)/server.log.1")
            balancer.signal(SIGUSR1)
            #expect(await waitUntil { FileManager.default.fileExists(atPath: "\(scene.dir)/server.log") })
            #expect(try await TestClient.name(port: scene.port) == "a")
            #expect(await waitUntil { scene.read("server.log").contains(" client 127.0.0.1:") })
            // One session in each file.
            #expect(scene.read("server.log").components(separatedBy: " connected to 127.0.0.1:\(scene.port)\n").count == 2)
            #expect(scene.read("server.log.1").components(separatedBy: " connected to 127.0.0.1:\(scene.port)\n").count == 2)
        }
    }

    @Test("error_log syslog: each message a datagram to the server, nginx's header and then the error-log line byte for byte")
    func syslog() async throws {
        let receiver = try UDPReceiver()
        let server = "error_log server.log info; error_log syslog:server=127.0.0.1:\(receiver.port) info;"
        try await Scene.with(server: server) { scene, balancer in
            #expect(await waitUntil { (try? await TestClient.name(port: scene.port)) == "a" })
            #expect(await waitUntil { scene.read("server.log").contains(" disconnected, bytes from/to client:") })
            let lines = scene.read("server.log").split(separator: "\n").map(String.init)
            var name = [CChar](repeating: 0, count: 256)
            gethostname(&name, 255)
            let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased()
            for line in lines {
                let datagram = try #require(receiver.receive(), "no datagram for \(line)")
                try #require(datagram.count > 20)
                // local7 (23 * 8) plus info (6), then the local time as "Dec  2 07:05:01".
                #expect(String(decoding: datagram[0..<5], as: UTF8.self) == "<190>")
                let stamp = String(decoding: datagram[5..<20], as: UTF8.self)
                #expect(Self.isSyslogTime(stamp), "\(stamp)")
                #expect(String(decoding: datagram[20...], as: UTF8.self) == " \(host) nginx: \(line)")
            }
        }
    }

    /// `Mmm dd hh:mm:ss`, the day padded with a space.
    static func isSyslogTime(_ text: String) -> Bool {
        let shape = Array("Aaa dd dd:dd:dd")
        let characters = Array(text)
        guard characters.count == shape.count else { return false }
        return zip(characters, shape).allSatisfy { character, kind in
            switch kind {
            case "A": character.isUppercase
            case "a": character.isLowercase
            case "d": character.isNumber || character == " "
            default: character == kind
            }
        }
    }
}
