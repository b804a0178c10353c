import Balancer
import Foundation
import MusterBase
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A built executable of this package run as a child, its output in a log file; killed by its pid
/// when dropped.
final class ChildProcess: @unchecked Sendable {
    // @unchecked Sendable: `Process` is started in init and then only queried or signalled by pid,
    // which Foundation makes thread-safe.
    let process = Process()
    let logURL: URL

    init(_ name: String, _ arguments: [String]) throws {
        self.logURL = FileManager.default.temporaryDirectory.appendingPathComponent("storm-\(name)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: self.logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: self.logURL)
        self.process.executableURL = try BuiltBinary.url(name)
        self.process.arguments = arguments
        self.process.standardOutput = log
        self.process.standardError = log
        self.process.standardInput = FileHandle.nullDevice
        try self.process.run()
        try log.close()
    }

    var pid: pid_t { self.process.processIdentifier }
    var log: String { (try? String(contentsOf: self.logURL, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) {
        if self.process.isRunning { kill(self.pid, signal) }
    }

    /// Waits (bounded) for the process to end; whether it did.
    func waitForExit(timeout: Duration) async -> Bool {
        await waitUntil(timeout: timeout) { !self.process.isRunning }
    }

    deinit {
        if self.process.isRunning {
            // A stopped process must be continued to die of SIGKILL promptly in every kernel.
            kill(self.pid, SIGKILL)
            kill(self.pid, SIGCONT)
            self.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: self.logURL)
    }
}

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
            await offPool {
                let connection = LineConnection.connect(port: port)
                connection?.close()
                return connection != nil
            }
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
            guard let connection = LineConnection.connect(port: port) else { return nil }
            defer { connection.close() }
            return connection.greeting()
        }
    }
}

/// Runs blocking socket work on a thread of its own: on the cooperative pool (two threads on two
/// cores) a read waiting seconds would stall every other test's tasks meanwhile.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (done: CheckedContinuation<T, Never>) in
        let thread = Thread { done.resume(returning: body()) }
        thread.start()
    }
}

/// A blocking line client on a raw socket with receive and send timeouts, for the chat protocol
/// (`HELLO <server>` on connect, `PING x` answered by `PONG x`).
final class LineConnection: @unchecked Sendable {
    // @unchecked Sendable: used by one task at a time.
    let fd: Int32
    private var pending: [UInt8] = []

    private init(fd: Int32) {
        self.fd = fd
    }

    static func connect(port: Int, timeout: Duration = .seconds(5)) -> LineConnection? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(fd)
            return nil
        }
        return LineConnection(fd: fd)
    }

    /// The next line, without its newline; nil on EOF, error or timeout.
    func readLine() -> String? {
        var buffer = [UInt8](repeating: 0, count: 512)
        for _ in 0..<64 {
            if let newline = self.pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: self.pending[..<newline], as: UTF8.self)
                self.pending.removeSubrange(...newline)
                return line.hasSuffix("\r") ? String(line.dropLast()) : line
            }
            let count = read(self.fd, &buffer, buffer.count)
            guard count > 0 else { return nil }
            self.pending += buffer[..<count]
        }
        return nil
    }

    /// The server named in the greeting (`HELLO <name>`).
    func greeting() -> String? {
        guard let line = self.readLine(), line.hasPrefix("HELLO ") else { return nil }
        return String(line.dropFirst(6))
    }

    /// One round trip: `PING token` answered by `PONG token`.
    func ping(_ token: String) -> Bool {
        let line = Array("PING \(token)\n".utf8)
        guard line.withUnsafeBytes({ send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == line.count else {
            return false
        }
        return self.readLine() == "PONG \(token)"
    }

    func close() {
        Glibc.close(self.fd)
    }
}
