import Balancer
import Foundation
import MusterBase
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue #11's storms with every part real: a ZooKeeper (TestSupport), `chat-server`s, one
/// `server-agent` beside each, and the `balancer` binary fed from the agents' registrations.
/// Sessions are short (2 s) so an expiry comes quickly; checks are fast (200 ms, fall 2).
final class StormCluster: @unchecked Sendable {
    // @unchecked Sendable: the arrays are filled by the test's own task only.
    let zk: ZooKeeperServer
    let path = "/muster-test/\(UUID().uuidString.lowercased())/chat"
    private(set) var servers: [String: (process: ChildProcess, port: Int)] = [:]
    private(set) var agents: [String: ChildProcess] = [:]
    private(set) var balancer: ChildProcess?
    private(set) var port = 0
    private(set) var admin = Endpoint(host: "127.0.0.1", port: 0)
    private var configPath: String?
    static let sessionTimeout = "2s"

    private init(zk: ZooKeeperServer) {
        self.zk = zk
    }

    /// Runs `body` on a fresh cluster (no server yet) and stops everything after it.
    static func with(_ body: (StormCluster) async throws -> Void) async throws {
        let cluster = StormCluster(zk: try await ZooKeeperServer.start())
        try await withCleanup({ try await body(cluster) }, cleanup: { await cluster.stop() })
    }

    private func stop() async {
        self.balancer = nil
        self.agents = [:]
        self.servers = [:]
        if let configPath { try? FileManager.default.removeItem(atPath: configPath) }
        await self.zk.stop()
    }

    /// Starts `chat-server --name NAME` and waits until it accepts.
    func startServer(_ name: String) async throws {
        let port = try freeLoopbackPort()
        let process = try ChildProcess("chat-server", ["--listen", "127.0.0.1:\(port)", "--name", name, "--log-level", "warning"])
        self.servers[name] = (process, port)
        let up = await waitUntil(timeout: .seconds(30)) {
            await offPool { (try? RawSocket(port: port)) != nil }
        }
        guard up else { throw TestSupportError("chat-server \(name) did not listen: \(process.log)") }
    }

    /// Starts the agent of server `name`, registering it as member `name`.
    func startAgent(_ name: String) throws {
        guard let port = self.servers[name]?.port else { throw TestSupportError("no server \(name)") }
        self.agents[name] = try ChildProcess("server-agent", [
            "--zookeeper", self.zk.connectString, "--path", self.path, "--server", "127.0.0.1:\(port)", "--id", name,
            "--interval", "200ms", "--timeout", "200ms", "--rise", "1", "--fall", "2",
            "--session-timeout", Self.sessionTimeout, "--log-level", "info",
        ])
    }

    func agent(_ name: String) -> ChildProcess? { self.agents[name] }

    /// Starts the balancer on this cluster's members; `zookeeperOptions` go on its `zookeeper` line.
    func startBalancer(zookeeperOptions: String = "") async throws {
        self.port = try freeLoopbackPort()
        self.admin = Endpoint(host: "127.0.0.1", port: try freeLoopbackPort())
        let configPath = NSTemporaryDirectory() + "storm-\(UUID().uuidString).conf"
        self.configPath = configPath
        try """
            stream {
              upstream chat {
                zookeeper \(self.zk.connectString) path=\(self.path) session_timeout=4s \(zookeeperOptions);
              }
              server { listen 127.0.0.1:\(self.port); proxy_pass chat; proxy_connect_timeout 1s; }
            }
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let balancer = try ChildProcess("balancer", [
            "run", "--config", configPath, "--admin", self.admin.description, "--log-level", "warning",
        ])
        self.balancer = balancer
        let up = await waitUntil(timeout: .seconds(30)) { (try? await AdminClient.get("/healthz", from: self.admin)) != nil }
        guard up else { throw TestSupportError("balancer did not start: \(balancer.log)") }
    }

    /// The balancer's members as `GET /members` reports them (what `balancer members --json` prints).
    func members() async -> [MemberStatus] {
        guard let body = try? await AdminClient.get("/members", from: self.admin),
            let report = try? JSONDecoder().decode(MembersReport.self, from: Data(body))
        else { return [] }
        return report.upstreams.first?.members ?? []
    }

    /// Member id (without `zk:`) to state.
    func states() async -> [String: String] {
        var states: [String: String] = [:]
        for member in await self.members() {
            states[String(member.id.dropFirst(3))] = member.state
        }
        return states
    }

    /// Whether the group is in panic (suspects kept).
    func panic() async -> Bool? {
        guard let body = try? await AdminClient.get("/members", from: self.admin),
            let report = try? JSONDecoder().decode(MembersReport.self, from: Data(body))
        else { return nil }
        return report.upstreams.first?.panic
    }

    /// A new client through the balancer: the server that greeted it, nil if none did.
    func served() async -> String? {
        let port = self.port
        return await offPool {
            try? RawSocket(port: port).greeting()
        }
    }
}

/// The chat protocol on a raw socket (blocking: run it `offPool`): `HELLO <server>` on connect,
/// `PING x` answered by `PONG x`.
extension RawSocket {
    /// The server named in the greeting (`HELLO <name>`).
    func greeting() -> String? {
        guard let line = self.readLine(), line.hasPrefix("HELLO ") else { return nil }
        return String(line.dropFirst(6))
    }

    /// One round trip: `PING token` answered by `PONG token`.
    func ping(_ token: String) -> Bool {
        guard (try? self.send("PING \(token)\n")) != nil else { return false }
        return self.readLine() == "PONG \(token)"
    }
}
