import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// What one test stands up (backends, processes, folders, files), each taken down when the test
/// ends, the last made first, whether the test returned or threw.
///
/// `defer { Task { await backend.stop() } }` only schedules the stop for some time after the test,
/// and a `try` that throws skips a `balancer.stop()` written at the end; the scene does both in
/// ``with(_:)``, before it returns. Taking something down early (a backend stopped to see what
/// the balancer does) is fine: every stop here may be called twice.
public final class TestScene: Sendable {
    private let cleanups = NIOLockedValueBox<[@Sendable () async -> Void]>([])

    private init() {}

    /// Runs `body` with a fresh scene, then takes down everything it made.
    @discardableResult
    public static func with<T>(_ body: (TestScene) async throws -> T) async throws -> T {
        let scene = TestScene()
        return try await withCleanup({ try await body(scene) }, cleanup: { await scene.takeDown() })
    }

    /// Runs `cleanup` when the scene ends (before what was registered earlier).
    public func onExit(_ cleanup: @escaping @Sendable () async -> Void) {
        self.cleanups.withLockedValue { $0.append(cleanup) }
    }

    private func takeDown() async {
        let cleanups = self.cleanups.withLockedValue { cleanups in
            defer { cleanups = [] }
            return cleanups
        }
        for cleanup in cleanups.reversed() {
            await cleanup()
        }
    }

    /// A backend that greets with `name` and echoes (see ``TestBackend``).
    public func backend(_ name: String) async throws -> TestBackend {
        try await self.backend(behaviour: .echo(greeting: name), name: name)
    }

    /// Two backends that greet with their names, as most balancing tests need.
    public func backends(_ first: String, _ second: String) async throws -> (TestBackend, TestBackend) {
        (try await self.backend(first), try await self.backend(second))
    }

    /// A backend with `behaviour` on `port` (0: any free port).
    public func backend(port: Int = 0, behaviour: TestBackend.Behaviour, name: String = "backend") async throws -> TestBackend {
        let backend = try await TestBackend.start(port: port, behaviour: behaviour, name: name)
        self.onExit { await backend.stop() }
        return backend
    }

    /// A fresh ZooKeeper server (see ``ZooKeeperServer``), stopped at the end.
    public func zooKeeper() async throws -> ZooKeeperServer {
        let server = try await ZooKeeperServer.start()
        self.onExit { await server.stop() }
        return server
    }

    /// A fresh, empty folder in the temporary folder, removed with what it holds.
    public func folder(_ prefix: String = "muster-test") throws -> String {
        var template = Array("\(NSTemporaryDirectory())/\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestSupportError("mkdtemp failed: errno \(errno)") }
        let path = String(cString: made)
        self.onExit { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// A file with a fresh name (see ``TemporaryFile``), removed at the end.
    public func file(_ prefix: String, suffix: String = "", _ text: String? = nil) throws -> TemporaryFile {
        let file = try TemporaryFile(prefix, suffix: suffix, text)
        self.onExit { file.remove() }
        return file
    }

    /// The built executable `name` run with `arguments`, killed at the end if it still runs.
    public func process(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        let process = try ChildProcess(name, arguments, environment: environment)
        self.onExit { if process.isRunning { process.kill() } }
        return process
    }
}
