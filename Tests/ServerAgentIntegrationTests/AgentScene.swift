import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// What every end-to-end agent test stands on: a real ZooKeeper, a probe client on it, one
/// loopback server for the agent to check, and a fresh service path, so tests never see each
/// other's nodes. ``with(server:_:)`` stops all of it after the test, whatever happens.
final class AgentScene: @unchecked Sendable {
    let zk: ZooKeeperServer
    let probe: ZooKeeperProbe
    /// The checked server; a test may stop it and start another on the same port.
    var server: TestBackend
    let path = "/muster-test/\(UUID().uuidString.lowercased())/chat"
    /// Paths given out by ``temporaryPath(_:)``, removed at the end.
    private var temporaryPaths: [String] = []

    private init(zk: ZooKeeperServer, probe: ZooKeeperProbe, server: TestBackend) {
        self.zk = zk
        self.probe = probe
        self.server = server
    }

    static func with(
        server behaviour: TestBackend.Behaviour = .reply("PONG"),
        _ body: (AgentScene) async throws -> Void
    ) async throws {
        let zk = try await ZooKeeperServer.start()
        let scene = AgentScene(
            zk: zk,
            probe: try await ZooKeeperProbe(connectString: zk.connectString),
            server: try await TestBackend.start(behaviour: behaviour))
        try await withCleanup({ try await body(scene) }, cleanup: { await scene.stop() })
    }

    private func stop() async {
        for path in self.temporaryPaths {
            try? FileManager.default.removeItem(atPath: path)
        }
        await self.server.stop()
        await self.probe.close()
        await self.zk.stop()
    }

    /// The member node of an agent with the default id for `port` (the checked server's).
    func node(port: Int? = nil) -> String {
        "\(self.path)/members/127.0.0.1-\(port ?? self.server.port)"
    }

    func node(id: String) -> String {
        "\(self.path)/members/\(id)"
    }

    /// The built agent on this scene's ZooKeeper, path and server, with the suite's fast checks,
    /// then `extra` flags, then a supervised `command` if any.
    func agent(
        port: Int? = nil, _ extra: [String] = [], command: [String] = [], environment: [String: String] = [:]
    ) throws -> ChildProcess {
        try ChildProcess(
            "server-agent",
            AgentEndToEndTests.agentArguments(
                zk: self.zk.connectString, path: self.path, port: port ?? self.server.port, extra: extra)
                + (command.isEmpty ? [] : ["--"] + command),
            environment: environment)
    }

    /// ``agent(port:_:command:environment:)`` for the checked server, once its node exists (a
    /// failure with its log is recorded if it never does): the agent and its node.
    func registeredAgent(
        _ extra: [String] = [], command: [String] = [], environment: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (ChildProcess, node: String) {
        let agent = try self.agent(extra, command: command, environment: environment)
        let node = self.node()
        await self.registered(node, by: agent, sourceLocation: sourceLocation)
        return (agent, node)
    }

    /// A fresh path in the temporary folder, nothing there yet, removed at the end: a marker
    /// through which a test and a supervised script signal each other, an auth file.
    func temporaryPath(_ prefix: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        self.temporaryPaths.append(path)
        return path
    }

    /// Waits (10 s at most) until `event` has happened and `node` is gone, reading `event` before
    /// the node on every poll, so that an event seen while the node still existed is caught: how
    /// long it took (nil: not both within the deadline), and whether the event came first.
    func waitUntilGone(_ node: String, before event: () -> Bool) async -> (took: Duration?, eventFirst: Bool) {
        var eventFirst = false
        let took = await timeUntil(timeout: .seconds(10), every: .milliseconds(2)) {
            let happened = event()
            let exists = await self.probe.exists(node)
            if happened && exists { eventFirst = true }
            return happened && !exists ? await self.probe.absent(node) : false
        }
        return (took, eventFirst)
    }

    /// Waits until `node` exists; records a failure with the agent's log if it never does.
    @discardableResult
    func registered(
        _ node: String, by agent: ChildProcess, timeout: Duration = .seconds(15),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async -> Duration? {
        let took = await timeUntil(timeout: timeout) { await self.probe.exists(node) }
        #expect(took != nil, "\(node) never appeared; agent log:\n\(agent.log)", sourceLocation: sourceLocation)
        return took
    }

    /// SIGTERM, then the exit status the agent must end with.
    func terminate(
        _ agent: ChildProcess, expecting status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        agent.signal(SIGTERM)
        let exit = await agent.waitForExit(timeout: .seconds(10))
        #expect(exit == status, "exit \(String(describing: exit)); log:\n\(agent.log)", sourceLocation: sourceLocation)
    }
}
