import Foundation
import Logging
import Registry
import Testing
import TestSupport
@testable import ServerAgent

/// The agent run as a library, with a ZooKeeper client the test owns, for what needs the client:
/// forcing a session expiry. Part of the serialized end-to-end suite.
extension AgentEndToEndTests {
    /// Logs at info to stdout: the in-process agent has no log file to show on failure.
    static let agentLogger = Logger(label: "test.agent")

    static func inProcessAgent(zk: String, path: String, port: Int) throws -> ServerAgent {
        var options = AgentOptions()
        options.zookeeper = zk
        options.path = path
        options.server = "127.0.0.1:\(port)"
        options.interval = "100ms"
        options.timeout = "100ms"
        options.sessionTimeout = "2s"
        options.drainSignal = "none"
        var agent = ServerAgent(configuration: try AgentConfiguration(options), credentials: nil, logger: agentLogger)
        // The test process's own signals are not the agent's business.
        agent.gracefulShutdownSignals = []
        return agent
    }

    @Test func sessionExpiryReRegistersInTheNewSession() async throws {
        let zk = try await ZooKeeperServer.start()
        let probe = try await ZooKeeperProbe(connectString: zk.connectString)
        let server = try await TestBackend.start(behaviour: .reply("PONG"))
        let path = Self.servicePath()
        let node = "\(path)/members/127.0.0.1-\(server.port)"
        let client = try ZooKeeperClient(
            configuration: ZooKeeperConfiguration(connectString: zk.connectString, sessionTimeout: .seconds(2)),
            logger: Self.agentLogger)
        let agent = try Self.inProcessAgent(zk: zk.connectString, path: path, port: server.port)
        let running = Task { await agent.run(client: client) }

        #expect(await timeUntil(timeout: .seconds(15)) { await probe.exists(node) } != nil)
        let firstOwner = await probe.owner(node)
        #expect(firstOwner == client.sessionID)

        // The twin handle that expires the session can lose the race against this client
        // re-attaching to its session first (then nothing expires): try again, bounded.
        let firstSession = client.sessionID
        var expired = false
        for _ in 0..<5 where !expired {
            try await ZooKeeperServer.expireSession(of: client)
            expired = await timeUntil(timeout: .seconds(3)) { client.sessionID != firstSession && client.sessionID != 0 } != nil
        }
        #expect(expired, "could not expire the agent's session")
        let back = await timeUntil(timeout: .seconds(15)) {
            guard let owner = await probe.owner(node) else { return false }
            return owner != firstOwner
        }
        #expect(back != nil, "node not re-created in a new session")
        print("MEASURED new session after expiry -> node back: \(back.map { "\($0)" } ?? "never")")

        // Cancelling the agent deletes its node on the way out.
        running.cancel()
        _ = await running.value
        #expect(await probe.absent(node))
        await client.close()
        await server.stop()
        await probe.close()
        await zk.stop()
    }

    @Test func checksContinueThroughAZooKeeperOutage() async throws {
        try await AgentScene.with { scene in
            let port = scene.server.port
            let (agent, node) = try await scene.registeredAgent()

            // ZooKeeper goes away, and while it is away the server dies: the agent must notice.
            await scene.zk.stop()
            await scene.server.stop()
            let noticed = await timeUntil(timeout: .seconds(10), every: .milliseconds(20)) {
                agent.log.contains("server unhealthy: deregistering")
            }
            #expect(noticed != nil, "no health transition during the outage; log:\n\(agent.log)")

            // ZooKeeper is back (same data, the agent's session survives): the stale node is removed.
            try await scene.zk.start()
            #expect(await timeUntil(timeout: .seconds(15), every: .milliseconds(20)) { await scene.probe.absent(node) } != nil, "log:\n\(agent.log)")

            scene.server = try await TestBackend.start(port: port, behaviour: .reply("PONG"))
            await scene.registered(node, by: agent)
            #expect(agent.isRunning)
            await scene.terminate(agent)
        }
    }
}
