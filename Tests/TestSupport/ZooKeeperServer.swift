import Foundation
import Logging
import Registry

/// A throwaway standalone ZooKeeper server for tests: Debian's `zookeeper` package run with a
/// temporary data dir on a free 127.0.0.1 port, fast ticks (200 ms) so sessions may be short
/// (from 400 ms), no admin server. It is killed by `stop()` and at `deinit`. When
/// `MUSTER_TEST_PID_DIR` is set (`deploy/test.sh` sets it), each server's pid is recorded there
/// while it runs, with its data folder, so the test command can kill exactly the servers a
/// crashed test process left behind, by pid, and no other process on the machine.
///
/// Stopping uses SIGKILL: processes spawned from the test runner inherit its blocked signal mask,
/// so the JVM may never see a SIGTERM. ZooKeeper syncs its transaction log before it acknowledges
/// a write, so a killed server restarts with all its nodes and sessions.
public final class ZooKeeperServer: Sendable {
    public let port: Int
    public let directory: URL
    /// A `@unchecked Sendable` box: `Process` is only touched under the mutex.
    private struct Running: @unchecked Sendable {
        var process: Process?
    }
    private let running = Locked(Running())

    public var connectString: String { "127.0.0.1:\(port)" }

    private init(port: Int, directory: URL) {
        self.port = port
        self.directory = directory
    }

    /// Starts a server and waits until it answers (about 1 s).
    ///
    /// The port was free a moment before the JVM binds it; a test running in parallel can take it
    /// meanwhile, and the server then exits at once (its log says nothing: ZooKeeper logs through a
    /// no-op SLF4J binding here). So a server that exits during start-up is retried on a new port,
    /// up to three times.
    public static func start(timeout: Duration = .seconds(60)) async throws -> ZooKeeperServer {
        var attempt = 1
        while true {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("muster-zk-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
            let server = ZooKeeperServer(port: try freeLoopbackPort(), directory: directory)
            try server.writeConfig()
            do {
                try await server.launch(timeout: timeout)
                return server
            } catch is ExitedDuringStartup where attempt < 3 {
                attempt += 1
            }
        }
    }

    /// The server process ended before it answered.
    struct ExitedDuringStartup: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `body` with a fresh server and stops it afterwards, whatever happens.
    public static func with<T>(_ body: (ZooKeeperServer) async throws -> T) async throws -> T {
        let server = try await start()
        return try await withCleanup({ try await body(server) }, cleanup: { await server.stop() })
    }

    deinit {
        running.withLock { running in
            if let process = running.process {
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                }
                if let file = Self.pidFile(process.processIdentifier) {
                    try? FileManager.default.removeItem(at: file)
                }
            }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private func writeConfig() throws {
        let config = """
            tickTime=200
            minSessionTimeout=400
            maxSessionTimeout=60000
            initLimit=10
            syncLimit=5
            dataDir=\(directory.appendingPathComponent("data").path)
            clientPort=\(port)
            clientPortAddress=127.0.0.1
            admin.enableServer=false
            4lw.commands.whitelist=srvr,ruok,stat,cons
            maxClientCnxns=0

            """
        try config.write(to: directory.appendingPathComponent("zoo.cfg"), atomically: true, encoding: .utf8)
    }

    private func launch(timeout: Duration) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/java")
        process.arguments = [
            "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Dzookeeper.root.logger=INFO,CONSOLE", "-Dzookeeper.console.threshold=INFO",
            "-Dzookeeper.log.dir=\(directory.path)",
            "-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar",
            "org.apache.zookeeper.server.ZooKeeperServerMain",
            directory.appendingPathComponent("zoo.cfg").path,
        ]
        let logURL = directory.appendingPathComponent("zookeeper.log")
        if !FileManager.default.fileExists(atPath: logURL.path) {
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: logURL)
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        running.withLock { $0.process = process }
        recordPid(process.processIdentifier)
        let port = self.port
        let up = await waitUntil(timeout: timeout, interval: .milliseconds(50)) {
            guard process.isRunning else { return true }
            return await offPool { fourLetterWord("srvr", port: port)?.contains("Zookeeper version") ?? false }
        }
        guard up, process.isRunning else {
            let exited = !process.isRunning
            let tail = (try? String(contentsOf: logURL, encoding: .utf8))?.suffix(2000) ?? ""
            await stop()
            let message = "ZooKeeper did not start on 127.0.0.1:\(port)\(exited ? " (it exited)" : "") (log \(logURL.path)):\n\(tail)"
            if exited { throw ExitedDuringStartup(description: message) }
            throw TestSupportError(message)
        }
    }

    /// Stops the server (SIGKILL, see above) and waits for it to exit.
    public func stop() async {
        guard let process = running.withLock({ running -> Process? in
            defer { running.process = nil }
            return running.process
        }) else { return }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        await waitForExit(process)
        forgetPid(process.processIdentifier)
    }

    /// The file naming a running server for `deploy/test.sh`'s clean-up: `<dir>/zookeeper-<pid>`,
    /// holding this server's data folder, which its command line contains (so a pid reused by
    /// another process after the server died is not killed).
    private static func pidFile(_ pid: Int32) -> URL? {
        guard let folder = ProcessInfo.processInfo.environment["MUSTER_TEST_PID_DIR"], !folder.isEmpty else { return nil }
        return URL(fileURLWithPath: folder).appendingPathComponent("zookeeper-\(pid)")
    }

    private func recordPid(_ pid: Int32) {
        guard let file = Self.pidFile(pid) else { return }
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? (directory.path + "\n").write(to: file, atomically: true, encoding: .utf8)
    }

    private func forgetPid(_ pid: Int32) {
        guard let file = Self.pidFile(pid) else { return }
        try? FileManager.default.removeItem(at: file)
    }

    /// Starts the server again on the same port with the same data (sessions survive if they have
    /// not timed out meanwhile).
    public func restart(timeout: Duration = .seconds(60)) async throws {
        await stop()
        try await launch(timeout: timeout)
    }

    /// Starts a stopped server again.
    public func start(timeout: Duration = .seconds(60)) async throws {
        try await launch(timeout: timeout)
    }

    private func waitForExit(_ process: Process) async {
        _ = await waitUntil(timeout: .seconds(10), interval: .milliseconds(10)) { !process.isRunning }
    }

    /// Expires `client`'s session as ZooKeeper would: a second handle attaches to the same session
    /// and closes it. The first handle sees `.expired` within about 100 ms.
    public static func expireSession(of client: ZooKeeperClient) async throws {
        // The twin and the original can take the connection from each other while the twin
        // connects; if the twin's close did not end the session, try again (bounded).
        for _ in 0..<5 {
            guard let session = client.sessionCredentials() else {
                throw TestSupportError("client has no session to expire")
            }
            let twin = try ZooKeeperClient(configuration: client.configuration, logger: Logger(label: "muster.test.twin"),
                                           resuming: session)
            try await twin.waitUntilConnected(timeout: .seconds(10))
            await twin.close()
            let expired = await waitUntil(timeout: .seconds(3), interval: .milliseconds(5)) {
                client.sessionID != session.id || client.state == .expired
            }
            if expired { return }
        }
        throw TestSupportError("could not expire session 0x\(String(UInt64(bitPattern: client.sessionID), radix: 16))")
    }
}

extension ZooKeeperServer {
    /// A client of this server, connected (waited for up to 20 s): what most tests start with.
    public func client(
        sessionTimeout: Duration = .seconds(10), credentials: DigestCredentials? = nil, chroot: String = "",
        logger: Logger = Logger(label: "muster.test.zk")
    ) async throws -> ZooKeeperClient {
        let client = try ZooKeeperClient(
            configuration: ZooKeeperConfiguration(
                connectString: connectString + chroot, sessionTimeout: sessionTimeout, credentials: credentials),
            logger: logger)
        try await client.waitUntilConnected(timeout: .seconds(20))
        return client
    }

    /// The last request id (`lcxid` in the `cons` four-letter word) the server has seen from `session`:
    /// it grows by one per request and not with pings, so a test can wait until a client has retried
    /// instead of sleeping. Nil when the server does not list the session.
    public func lastRequestID(ofSession session: Int64) async -> Int? {
        let sid = "sid=0x" + String(UInt64(bitPattern: session), radix: 16)
        let port = self.port
        guard let line = await offPool({ fourLetterWord("cons", port: port) })?.split(separator: "\n").first(where: { $0.contains(sid + ",") }),
              let field = line.split(separator: ",").first(where: { $0.hasPrefix("lcxid=0x") })
        else { return nil }
        return Int(field.dropFirst("lcxid=0x".count), radix: 16)
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A port that was free on 127.0.0.1 a moment ago, for a server the caller starts next.
///
/// Picked at random below the kernel's ephemeral range (ports from bind(0) and outgoing connections
/// come from that range, so one of those could take a port from it before the caller binds it);
/// from bind(0) only if nothing down there is free.
public func freeLoopbackPort() throws -> Int {
    let top = min(ephemeralPortRangeStart(), 32768)
    if top > 10001 {
        for _ in 0..<200 {
            let port = Int.random(in: 10000..<top)
            if let bound = try? bindLoopback(port: port) { return bound }
        }
    }
    return try bindLoopback(port: 0)
}

/// The first port of the kernel's ephemeral range (32768 when it cannot be read).
func ephemeralPortRangeStart() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
          let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first,
          let low = Int(first)
    else { return 32768 }
    return low
}

/// Binds a TCP socket to 127.0.0.1:port (0: any), closes it and returns the port it had.
private func bindLoopback(port: Int) throws -> Int {
    let (descriptor, bound) = try bindLoopbackSocket(port: port)
    close(descriptor)
    return bound
}

/// Sends a ZooKeeper four-letter word to 127.0.0.1:port and returns the reply (nil if no answer).
public func fourLetterWord(_ word: String, port: Int, timeoutSeconds: Int = 2) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    guard connectLoopback(fd, port: port) == 0 else { return nil }
    _ = word.withCString { send(fd, $0, strlen($0), 0) }
    var reply = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    for _ in 0..<64 {
        let count = recv(fd, &buffer, buffer.count, 0)
        if count <= 0 { break }
        reply.append(contentsOf: buffer[0..<count])
    }
    return String(decoding: reply, as: UTF8.self)
}
