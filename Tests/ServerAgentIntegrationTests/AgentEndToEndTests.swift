import Foundation
import MusterBase
import Registry
import Testing
import TestSupport
@testable import ServerAgent

#if canImport(Glibc)
import Glibc
#endif

/// End-to-end: a real ZooKeeper, a real TCP server on loopback, and the built `server-agent` binary.
/// Serialized because the timings below are what is being tested, on a 2-core machine.
@Suite("server-agent end to end", .serialized)
struct AgentEndToEndTests {
    static let interval = Duration.milliseconds(100)
    static let timeout = Duration.milliseconds(100)
    static let rise = 2
    static let fall = 2
    static let sessionTimeout = Duration.seconds(2)

    /// A fresh service path per test, so tests never see each other's nodes.
    static func servicePath() -> String {
        "/muster-test/\(UUID().uuidString.lowercased())/chat"
    }

    static func agentArguments(zk: String, path: String, port: Int, extra: [String] = []) -> [String] {
        [
            "--zookeeper", zk, "--path", path, "--server", "127.0.0.1:\(port)",
            "--interval", "100ms", "--timeout", "100ms", "--rise", "\(rise)", "--fall", "\(fall)",
            "--session-timeout", "2s",
        ] + extra
    }

    /// Health-check settings for the detection tests: fast ones, and the defaults.
    struct CheckSettings: Sendable, CustomTestStringConvertible {
        var interval: Duration
        var timeout: Duration
        var fall: Int
        var rise: Int
        var testDescription: String { "interval \(DurationSyntax.format(interval)), timeout \(DurationSyntax.format(timeout)), rise \(rise), fall \(fall)" }
        var arguments: [String] {
            ["--interval", DurationSyntax.format(interval), "--timeout", DurationSyntax.format(timeout), "--rise", "\(rise)", "--fall", "\(fall)"]
        }
        static let fast = CheckSettings(interval: .milliseconds(100), timeout: .milliseconds(100), fall: 2, rise: 2)
        static let defaults = CheckSettings(interval: .seconds(1), timeout: .milliseconds(500), fall: 2, rise: 2)
    }

    @Test(arguments: [CheckSettings.fast, CheckSettings.defaults])
    func serverDeathRemovesTheNodeAndRecoveryRestoresIt(settings: CheckSettings) async throws {
        try await AgentScene.with { scene in
            let port = scene.server.port
            let (agent, node) = try await scene.registeredAgent(["--weight", "3", "--meta", "zone=a"] + settings.arguments)
            let record = await scene.probe.record(node)
            #expect(record == MemberRecord(id: "127.0.0.1-\(port)", host: "127.0.0.1", port: port, weight: 3, metadata: ["zone": "a"]))

            await scene.server.stop()
            // Reserved until the server comes back, so a test running in parallel cannot listen there.
            let reserved = try DeadPort(port: port)
            let gone = await timeUntil(timeout: .seconds(15)) { await scene.probe.absent(node) }
            // How long it took is measured (printed here, and by bench/failover), not bounded: the
            // log below shows the failed checks were the cause.
            #expect(gone != nil, "node stayed after the server died; log:\n\(agent.log)")
            print("MEASURED server death -> node gone: \(gone.map { "\($0)" } ?? "never") (\(settings.testDescription))")

            scene.server = try await TestBackend.start(port: port, behaviour: .reply("PONG"))
            withExtendedLifetime(reserved) {}
            let back = await scene.registered(node, by: agent)
            print("MEASURED server back -> node back: \(back.map { "\($0)" } ?? "never") (\(settings.testDescription))")
            #expect(agent.log.contains("server unhealthy: deregistering"))
            #expect(agent.log.contains("consecutive checks failed"))
            await scene.terminate(agent)
        }
    }

    @Test func sigtermDeletesTheNodeBeforeTheProcessExits() async throws {
        try await AgentScene.with { scene in
            let (agent, node) = try await scene.registeredAgent()

            agent.signal(SIGTERM)
            // An exited agent whose node still exists is a violation (the node would linger for a
            // session timeout).
            let (done, violation) = await scene.waitUntilGone(node, before: { !agent.isRunning })
            #expect(done != nil, "agent did not exit or node stayed; log:\n\(agent.log)")
            #expect(!violation, "agent exited while its node still existed")
            #expect(await agent.waitForExit(timeout: .seconds(1)) == 0)
        }
    }

    @Test func agentKilledNodeGoesWithTheSession() async throws {
        try await AgentScene.with { scene in
            let (agent, node) = try await scene.registeredAgent()

            agent.signal(SIGKILL)
            _ = await agent.waitForExit(timeout: .seconds(5))
            let gone = await timeUntil(timeout: .seconds(20)) { await scene.probe.absent(node) }
            #expect(gone != nil)
            print("MEASURED agent kill -9 -> node gone: \(gone.map { "\($0)" } ?? "never") (session timeout 2s)")
        }
    }

    @Test func zooKeeperRestartBringsTheNodeBack() async throws {
        try await AgentScene.with { scene in
            let (agent, node) = try await scene.registeredAgent()

            try await scene.zk.restart()
            let back = await timeUntil(timeout: .seconds(20), every: .milliseconds(50)) { await scene.probe.exists(node) }
            #expect(back != nil, "node not back after ZooKeeper restart; log:\n\(agent.log)")
            #expect(agent.isRunning)
            await scene.terminate(agent)
        }
    }

    @Test func unreachableZooKeeperAtStartIsRetried() async throws {
        try await TestScene.with { scene in
            let zk = try await scene.zooKeeper()
            await zk.stop()
            let server = try await scene.backend(behaviour: .reply("PONG"))
            let path = Self.servicePath()
            let node = "\(path)/members/127.0.0.1-\(server.port)"
            let agent = try scene.process("server-agent", Self.agentArguments(zk: zk.connectString, path: path, port: server.port))
            let warned = await timeUntil(timeout: .seconds(10), every: .milliseconds(50)) {
                agent.log.contains("ZooKeeper unreachable")
            }
            #expect(warned != nil, "log:\n\(agent.log)")
            #expect(agent.isRunning)

            try await zk.restart()
            let probe = try await ZooKeeperProbe(connectString: zk.connectString)
            scene.onExit { await probe.close() }
            #expect(await timeUntil(timeout: .seconds(20), every: .milliseconds(50)) { await probe.exists(node) } != nil, "log:\n\(agent.log)")
            #expect(await agent.exitStatus(after: SIGTERM) == 0)
        }
    }

    @Test func applicationCheckCatchesAServerThatAcceptsButNeverAnswers() async throws {
        try await AgentScene.with(server: .silent) { scene in
            // Control: the plain TCP check is fooled by the hung server and registers it.
            let tcpAgent = try scene.agent(["--id", "tcp"])
            let appAgent = try scene.agent(["--id", "app", "--check-send", "PING", "--check-expect", "PONG", "--log-level", "debug"])
            await scene.registered(scene.node(id: "tcp"), by: tcpAgent)
            // Wait for the event, not for time: the application agent has failed more checks in a
            // row than `rise` would need to register (its debug log counts the streak).
            #expect(
                await timeUntil(timeout: .seconds(15)) { appAgent.log.contains("check.consecutive_failures=\(Self.rise + 2)") } != nil,
                "log:\n\(appAgent.log)")
            #expect(await scene.probe.absent(scene.node(id: "app")), "hung server registered; log:\n\(appAgent.log)")
            tcpAgent.signal(SIGTERM)
            appAgent.signal(SIGTERM)
            _ = await tcpAgent.waitForExit(timeout: .seconds(10))
            _ = await appAgent.waitForExit(timeout: .seconds(10))

            // And a server that answers is registered by the same check.
            let healthy = try await TestBackend.start(behaviour: .reply("PONG"))
            let okAgent = try scene.agent(port: healthy.port, ["--id", "ok", "--check-send", "PING", "--check-expect", "PONG"])
            await scene.registered(scene.node(id: "ok"), by: okAgent)
            await scene.terminate(okAgent)
            await healthy.stop()
        }
    }

    @Test func drainSignalTogglesDrainingInTheRecord() async throws {
        try await AgentScene.with { scene in
            let (agent, node) = try await scene.registeredAgent()
            #expect(await scene.probe.record(node)?.draining == false)

            agent.signal(SIGUSR1)
            #expect(await timeUntil(timeout: .seconds(5)) { await scene.probe.record(node)?.draining == true } != nil, "log:\n\(agent.log)")
            agent.signal(SIGUSR1)
            #expect(await timeUntil(timeout: .seconds(5)) { await scene.probe.record(node)?.draining == false } != nil, "log:\n\(agent.log)")
            await scene.terminate(agent)
        }
    }

    @Test func supervisorDeregistersTheMomentTheChildExitsAndExitsWithItsCode() async throws {
        // The health target stays up throughout: deregistration must come from the child's exit,
        // not from failed checks (fall 50 x 100ms would take five seconds).
        try await AgentScene.with { scene in
            let stopFile = scene.temporaryPath("stop")
            let script = "while [ ! -e '\(stopFile)' ]; do sleep 0.02; done; exit 7"
            let (agent, node) = try await scene.registeredAgent(["--fall", "50"], command: ["/bin/sh", "-c", script])

            _ = FileManager.default.createFile(atPath: stopFile, contents: nil)
            let gone = await timeUntil(timeout: .seconds(10), every: .milliseconds(5)) { await scene.probe.absent(node) }
            #expect(gone != nil)
            // The child's exit removed it, not failed checks (the server never stopped answering).
            #expect(agent.log.contains("health.reason=server process exited with status 7"), "log:\n\(agent.log)")
            #expect(!agent.log.contains("consecutive checks failed"), "log:\n\(agent.log)")
            print("MEASURED supervisor child exit -> node gone: \(gone.map { "\($0)" } ?? "never")")
            #expect(await agent.waitForExit(timeout: .seconds(10)) == 7, "log:\n\(agent.log)")
        }
    }

    @Test func supervisorForwardsSigtermOnlyAfterDeregistering() async throws {
        try await AgentScene.with { scene in
            let marker = scene.temporaryPath("term")
            let script = "trap \"echo child-got-sigterm >&2; touch '\(marker)'; exit 3\" TERM; while true; do sleep 0.02; done"
            let (agent, node) = try await scene.registeredAgent(command: ["/bin/sh", "-c", script])

            agent.signal(SIGTERM)
            // A marker written while the node still exists means the child was signalled before
            // deregistration.
            let (done, violation) = await scene.waitUntilGone(node, before: { FileManager.default.fileExists(atPath: marker) })
            #expect(done != nil, "log:\n\(agent.log)")
            #expect(!violation, "child got SIGTERM while the node still existed")
            #expect(await agent.waitForExit(timeout: .seconds(10)) == 3, "exits with the child's status; log:\n\(agent.log)")
        }
    }

    @Test func credentialsComeFromTheEnvironmentAndAreNeverLogged() async throws {
        try await AgentScene.with { scene in
            let secret = "s3cret-\(UUID().uuidString)"
            let authFile = scene.temporaryPath("auth")
            try "agent:\(secret)\n".write(toFile: authFile, atomically: true, encoding: .utf8)
            let (agent, node) = try await scene.registeredAgent(["--log-level", "trace"], environment: ["MUSTER_ZK_AUTH_FILE": authFile])
            // World-readable for balancers, even though created under digest credentials.
            #expect(await scene.probe.record(node)?.port == scene.server.port)
            #expect(agent.log.contains("zk.auth=digest"))
            await scene.terminate(agent)
            #expect(!agent.log.contains(secret), "the password appeared in the log")

            let unreadable = try scene.agent(["--auth-file", "/nonexistent/auth"])
            #expect(await unreadable.waitForExit(timeout: .seconds(10)) == 2)
            #expect(unreadable.log.contains("--auth-file"))
        }
    }

    @Test func supervisorExitsWith127WhenTheCommandCannotStart() async throws {
        // No ZooKeeper needed: the agent gives up on the child without ever registering.
        let agent = try ChildProcess("server-agent", [
            "--zookeeper", "127.0.0.1:\(try freeLoopbackPort())", "--server", "127.0.0.1:1", "--session-timeout", "1s",
            "--", "/nonexistent/chat-server",
        ])
        #expect(await agent.waitForExit(timeout: .seconds(15)) == 127, "log:\n\(agent.log)")
        #expect(agent.log.contains("cannot start server process"))
    }

    @Test func badFlagsExitWithStatus2() async throws {
        for arguments in [["--bogus"], [], ["--server", "127.0.0.1:6000", "--rise", "0"], ["--server", "x:1", "--check-send", "PING"]] {
            let agent = try ChildProcess("server-agent", arguments)
            let status = await agent.waitForExit(timeout: .seconds(10))
            #expect(status == 2, "\(arguments): \(agent.log)")
            #expect(agent.log.contains("Error:"), "\(arguments): \(agent.log)")
        }
    }
}
