import Balancer
import Foundation
import MusterBase
import NIOCore
import Registry
import TestSupport
import Testing

/// The built `balancer` executable: `check`, `members`, SIGHUP reload and SIGTERM drain on a real process.
@Suite("balancer executable", .serialized, .timeLimit(.minutes(2)))
struct BalancerBinaryTests {
    /// Runs the built `balancer` to its end: exit status, standard output and error.
    static func run(_ arguments: [String]) async throws -> ChildProcess.Finished {
        try await ChildProcess.run("balancer", arguments)
    }

    @Test("balancer check: ok file exits 0, bad file prints file:line:col and exits 1")
    func check() async throws {
        let config = try TemporaryFile("balancer-bin", suffix: ".conf")
        defer { config.remove() }
        let path = config.path
        try config.write(
            "stream {\n  upstream u { server 127.0.0.1:6000; }\n  server { listen 8000; proxy_pass u; }\n}\n")
        let ok = try await Self.run(["check", "--config", path])
        #expect(ok.status == 0)
        #expect(ok.output.contains("test is successful"))

        try config.write("stream {\n  upstream u { server 127.0.0.1:6000; }\n  http { }\n}\n")
        let bad = try await Self.run(["check", "--config", path])
        #expect(bad.status == 1)
        #expect(bad.error.contains("\(path):3:3:"))
    }

    @Test("balancer run refuses a bad config, a taken port and bad flags with a clear error and exit code")
    func runErrors() async throws {
        try await TestScene.with { scene in
            let config = try scene.file("balancer-bin", suffix: ".conf", "stream {\n  server { listen 8000; proxy_pass missing; }\n}\n")
            let path = config.path
            let bad = try await Self.run(["run", "--config", path])
            #expect(bad.status == 1)
            #expect(bad.error.contains("\(path):2:"))

            let taken = try await scene.backend("taken")
            try config.write(
                "stream { upstream u { server 127.0.0.1:1; } server { listen 127.0.0.1:\(taken.port); proxy_pass u; } }")
            let busy = try await Self.run(["run", "--config", path, "--admin", "127.0.0.1:0", "--log-level", "critical"])
            #expect(busy.status == 1)
            #expect(busy.error.contains("balancer:"))

            let mixed = try await Self.run(["run", "--config", path, "--listen", "8000"])
            #expect(mixed.status != 0)
            #expect(mixed.error.contains("--config cannot be combined"))
            let missing = try await Self.run(["run", "--listen", "8000"])
            #expect(missing.status != 0)
            #expect(missing.error.contains("--zookeeper"))
            // Bind addresses are IP literals, on the command line as in the config.
            let named = try await Self.run(["run", "--listen", "localhost:8000", "--zookeeper", "127.0.0.1:1", "--path", "/p"])
            #expect(named.status != 0)
            #expect(named.error.contains("an IP address is required"), "\(named.error)")
            let namedAdmin = try await Self.run(["run", "--config", path, "--admin", "localhost:0"])
            #expect(namedAdmin.status != 0)
            #expect(namedAdmin.error.contains("an IP address is required"), "\(namedAdmin.error)")
        }
    }

    @Test("a real SIGHUP reloads with a connection open; SIGTERM drains and exits 0; members prints the table")
    func sighupAndSigterm() async throws {
        try await TestScene.with { scene in
            let (a, b) = try await scene.backends("a", "b")
            func config(_ member: TestBackend, port: Int) -> String {
                "stream { upstream chat { server 127.0.0.1:\(member.port); } server { listen 127.0.0.1:\(port); proxy_pass chat; } }"
            }
            let run = try await BalancerProcess.start(in: scene, ["--drain-timeout", "10s", "--log-level", "warning"]) { config(a, port: $0) }
            let (balancer, port) = (run.process, run.port)

            let members = try await Self.run(["members", "--admin", run.admin.description])
            #expect(members.status == 0)
            #expect(members.output.contains("listen 127.0.0.1:\(port) -> chat"))
            #expect(members.output.contains("ID"))
            #expect(members.output.contains("static:127.0.0.1:\(a.port)  127.0.0.1:\(a.port)  1       static  up"))
            let json = try await Self.run(["members", "--admin", run.admin.description, "--json"])
            let report = try JSONDecoder().decode(MembersReport.self, from: Data(json.output.utf8))
            #expect(report.upstreams.map(\.name) == ["chat"])

            let connection = try await TestClient.connect(port: port)
            try await connection.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                #expect(try await TestClient.read(2, from: &iterator) == Array("a\n".utf8))

                try run.reload(config(b, port: port))
                #expect(await waitUntil { (try? await TestClient.name(port: port)) == "b" })
                #expect(balancer.isRunning)

                try await outbound.write(ByteBuffer(string: "old"))
                #expect(try await TestClient.read(3, from: &iterator) == Array("old".utf8))

                // SIGTERM: the open connection keeps working during the drain, new ones are refused.
                balancer.signal(SIGTERM)
                #expect(await waitUntil { await !TestClient.canConnect(port: port) })
                try await outbound.write(ByteBuffer(string: "drain"))
                #expect(try await TestClient.read(5, from: &iterator) == Array("drain".utf8))
            }
            // Our side closed: the drain completes and the process exits cleanly.
            #expect(await balancer.waitForExit(timeout: .seconds(10)) == 0, "\(balancer.log)")
        }
    }
}
