import Balancer
import Foundation
import MusterBase
import NIOCore
import Registry
import TestSupport
import Testing

/// A reload that fails, for any reason, leaves the running balancer and its connections alone.
@Suite("balancer executable: failed reloads", .serialized, .timeLimit(.minutes(2)))
struct ConfigReloadBinaryTests {
    @Test("a SIGHUP with an overflowing duration, a bad file or a taken port keeps the process, its connection and new clients")
    func failedReloadsKeepEverything() async throws {
        try await TestScene.with { scene in
            let (a, taken) = try await scene.backends("a", "taken")
            let upstream = "upstream chat { server 127.0.0.1:\(a.port); }"
            let run = try await BalancerProcess.start(in: scene, ["--log-level", "warning"]) { port in
                "stream { \(upstream) server { listen 127.0.0.1:\(port); proxy_pass chat; } }"
            }
            let (balancer, port, path) = (run.process, run.port, run.config.path)

            let bad = [
                // issue #9, defect 1: this trapped (signal 4) on SIGHUP and killed every connection.
                "stream { \(upstream) server { listen 127.0.0.1:\(port); proxy_pass chat; proxy_timeout 1w106751991167d; } }",
                // a parse error
                "stream { \(upstream) server { listen 127.0.0.1:\(port); proxy_pass chat; ",
                // a bind error: the second listener's port is taken
                "stream { \(upstream) server { listen 127.0.0.1:\(port); proxy_pass chat; } server { listen 127.0.0.1:\(taken.port); proxy_pass chat; } }",
            ]
            let connection = try await TestClient.connect(port: port)
            try await connection.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                #expect(try await TestClient.read(2, from: &iterator) == Array("a\n".utf8))
                for (index, text) in bad.enumerated() {
                    try run.reload(text)
                    let rejected = await waitUntil { balancer.count("configuration reload rejected") == index + 1 }
                    #expect(rejected, "reload \(index) was not rejected: \(balancer.errorOutput)")
                    #expect(balancer.isRunning)

                    let payload = "still-\(index)"
                    try await outbound.write(ByteBuffer(string: payload))
                    #expect(try await TestClient.read(payload.utf8.count, from: &iterator) == Array(payload.utf8))
                    #expect(try await TestClient.name(port: port) == "a")
                }
                #expect(balancer.errorOutput.contains("largest supported duration"))
                #expect(balancer.errorOutput.contains("cannot listen on 127.0.0.1:\(taken.port) (listen, \(path):1:"))
            }
            // The taken port was never bound by the balancer, and the good config is still in force.
            #expect(try await TestClient.name(port: taken.port) == "taken")
            #expect(await balancer.exitStatus(after: SIGTERM) == 0)
        }
    }

    @Test("a failed bind at start names the address and the directive or flag it came from")
    func bindErrorsNameTheirOrigin() async throws {
        try await TestScene.with { scene in
            let taken = try await scene.backend("taken")
            let path = try scene.file(
                "bind", suffix: ".conf",
                "stream {\n  admin 127.0.0.1:\(taken.port);\n  upstream u { server 127.0.0.1:1; }\n  server { listen 127.0.0.1:0; proxy_pass u; }\n}\n"
            ).path
            let admin = try await BalancerBinaryTests.run(["run", "--config", path, "--log-level", "critical"])
            #expect(admin.status == 1)
            #expect(admin.error.contains("cannot listen on 127.0.0.1:\(taken.port) (admin, \(path):2:3): Address already in use"), "\(admin.error)")
            let flag = try await BalancerBinaryTests.run(["run", "--config", path, "--admin", "127.0.0.1:\(taken.port)", "--log-level", "critical"])
            #expect(flag.error.contains("cannot listen on 127.0.0.1:\(taken.port) (--admin): Address already in use"), "\(flag.error)")
            let listen = try await BalancerBinaryTests.run([
                "run", "--listen", "127.0.0.1:\(taken.port)", "--zookeeper", "127.0.0.1:1", "--path", "/p", "--admin", "127.0.0.1:0",
                "--log-level", "critical",
            ])
            #expect(listen.status == 1)
            #expect(listen.error.contains("cannot listen on 127.0.0.1:\(taken.port) (--listen): Address already in use"), "\(listen.error)")
        }
    }

    @Test("duration flags beyond the largest supported duration are usage errors, not traps", arguments: [
        ["members", "--timeout", "9223372036854775807h"],
        ["members", "--timeout", "1w106751991167d"],
        ["run", "--drain-timeout", "9223372036854775807h", "--listen", "0", "--zookeeper", "127.0.0.1:1", "--path", "/p"],
        ["run", "--drain-timeout", "18446744073709551616", "--listen", "0", "--zookeeper", "127.0.0.1:1", "--path", "/p"],
    ])
    func durationFlags(arguments: [String]) async throws {
        let result = try await BalancerBinaryTests.run(arguments)
        #expect(result.status == 64, "\(result.error)")
        #expect(result.error.contains("largest supported duration"))
    }
}
