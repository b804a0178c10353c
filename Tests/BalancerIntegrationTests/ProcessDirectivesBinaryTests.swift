import Foundation
import TestSupport
import Testing

/// `pid`, `error_log`, `access_log` reopening, `user` and the nginx-style command line (`--prefix`, `--global`,
/// `--error-log`, SIGQUIT), through the real executable, as nginx-tests drive it.
@Suite("balancer executable: pid, error_log, user, SIGQUIT", .serialized, .timeLimit(.minutes(2)))
struct ProcessDirectivesBinaryTests {
    static func config(port: Int, backend: Int, main: String = "", stream: String = "") -> String {
        "\(main)\nevents { use epoll; }\nstream {\n  \(stream)\n  upstream u { server 127.0.0.1:\(backend); }\n  server { listen 127.0.0.1:\(port); proxy_pass u; }\n  admin 127.0.0.1:0;\n}\n"
    }

    /// A backend named "a", a fresh folder (the prefix of one run) and a free port for the
    /// balancer's listener; unless `nginxConf` is false the folder holds `nginx.conf`, which
    /// proxies that port to the backend. All of it is taken down after the test.
    struct Scene {
        let backend: TestBackend
        let dir: String
        let port: Int
        private let scene: TestScene

        static func with(
            main: String = "", stream: String = "", nginxConf: Bool = true, _ body: (Scene) async throws -> Void
        ) async throws {
            try await TestScene.with { scene in
                let backend = try await scene.backend("a")
                let made = Scene(backend: backend, dir: try scene.folder("muster-process"), port: try freeLoopbackPort(), scene: scene)
                if nginxConf {
                    try ProcessDirectivesBinaryTests.config(port: made.port, backend: made.backend.port, main: main, stream: stream)
                        .write(toFile: "\(made.dir)/nginx.conf", atomically: true, encoding: .utf8)
                }
                try await body(made)
            }
        }

        /// The built `balancer` run with `arguments`, killed at the end if it still runs.
        func balancer(_ arguments: [String]) throws -> ChildProcess {
            try self.scene.process("balancer", arguments)
        }
    }

    static func read(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    @Test("the pid file appears once the listener accepts, holds the pid, and is removed after SIGQUIT; error_log and --error-log write nginx-style lines")
    func pidFileAndQuit() async throws {
        try await Scene.with { scene in
            let (dir, port) = (scene.dir, scene.port)
            let balancer = try scene.balancer([
                "run", "--prefix", "\(dir)/", "--config", "nginx.conf", "--error-log", "startup.log",
                "--global", "pid \(dir)/nginx.pid; error_log error.log info;",
            ])
            #expect(await waitUntil { Self.read("\(dir)/nginx.pid") != nil })
            #expect(Self.read("\(dir)/nginx.pid") == "\(balancer.pid)\n")
            // Written after binding: a client is served as soon as the file is there.
            #expect(try await TestClient.name(port: port) == "a")
            // The config's main error_log wins over --error-log, at its own level.
            #expect(await waitUntil { Self.read("\(dir)/error.log")?.contains("] \(balancer.pid)#0: balancer started") == true })
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/startup.log"))

            // logrotate: the file is moved away, SIGUSR1 opens a new one where the next lines go.
            try FileManager.default.moveItem(atPath: "\(dir)/error.log", toPath: "\(dir)/error.log.1")
            balancer.signal(SIGUSR1)
            #expect(await waitUntil { FileManager.default.fileExists(atPath: "\(dir)/error.log") })
            balancer.signal(SIGHUP)
            #expect(await waitUntil { Self.read("\(dir)/error.log")?.contains("[notice] \(balancer.pid)#0: SIGHUP: reloading configuration") == true })
            #expect(Self.read("\(dir)/error.log.1")?.contains("SIGUSR1: reopening log files") == true)

            #expect(await balancer.exitStatus(after: SIGQUIT) == 0)
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/nginx.pid"))
        }
    }

    @Test("access_log: a session's line in the file; after logrotate's rename SIGUSR1 opens a new file, where the next line goes")
    func accessLogReopen() async throws {
        try await Scene.with(stream: "log_format short '$status $upstream_addr'; access_log access.log short;") { scene in
            let (dir, port) = (scene.dir, scene.port)
            let balancer = try scene.balancer(["run", "--prefix", "\(dir)/", "--config", "nginx.conf"])
            let line = "200 127.0.0.1:\(scene.backend.port)\n"
            // Refused connects before the listener is bound make no session, so this is the first line.
            #expect(await waitUntil { (try? await TestClient.name(port: port)) == "a" })
            #expect(await waitUntil { Self.read("\(dir)/access.log") == line })
            try FileManager.default.moveItem(atPath: "\(dir)/access.log", toPath: "\(dir)/access.log.1")
            balancer.signal(SIGUSR1)
            #expect(await waitUntil { FileManager.default.fileExists(atPath: "\(dir)/access.log") })
            #expect(try await TestClient.name(port: port) == "a")
            #expect(await waitUntil { Self.read("\(dir)/access.log") == line })
            #expect(Self.read("\(dir)/access.log.1") == line)
            #expect(await balancer.exitStatus(after: SIGQUIT) == 0)
        }
    }

    @Test("--error-log takes the log when the config has no main error_log; no pid directive, no pid file")
    func errorLogFlag() async throws {
        try await Scene.with { scene in
            let dir = scene.dir
            let balancer = try scene.balancer(["run", "--prefix", dir, "--config", "nginx.conf", "--error-log", "startup.log"])
            #expect(await waitUntil { Self.read("\(dir)/startup.log")?.contains("[info] \(balancer.pid)#0: balancer started") == true })
            #expect(await balancer.exitStatus(after: SIGTERM) != nil)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["nginx.conf", "startup.log"])
        }
    }

    /// A balancer started by root with `user nobody;`: serving, its pid file written.
    static func asNobody(_ body: (ChildProcess) async throws -> Void) async throws {
        try await Scene.with(main: "user nobody;\npid nginx.pid;") { scene in
            // nobody must be able to remove its pid file on exit.
            chmod(scene.dir, 0o777)
            let balancer = try scene.balancer(["run", "--config", "\(scene.dir)/nginx.conf", "--log-level", "info"])
            #expect(await waitUntil { Self.read("\(scene.dir)/nginx.pid") != nil })
            try await body(balancer)
            // Still serving after the switch.
            #expect(try await TestClient.name(port: scene.port) == "a")
            #expect(await balancer.exitStatus(after: SIGTERM) == 0)
            #expect(!FileManager.default.fileExists(atPath: "\(scene.dir)/nginx.pid"))
        }
    }

    /// The four ids of a `Uid:` or `Gid:` line of a /proc status file.
    static func ids(_ status: String, _ key: String) -> [String] {
        status.split(separator: "\n").first { $0.hasPrefix(key) }?.split(separator: "\t").dropFirst().map(String.init) ?? []
    }

    @Test(
        "user nobody as root: once bound the process and every thread, the main one included, run as nobody's uid and gid",
        .enabled(if: geteuid() == 0, "switching users needs root (CI runs as root)"))
    func userNobody() async throws {
        let nobody = try #require(getpwnam("nobody")).pointee
        // nginx's rule: the group named like the user, else (Debian's nobody) its primary group.
        let gid = getgrnam("nobody")?.pointee.gr_gid ?? nobody.pw_gid
        try await Self.asNobody { balancer in
            #expect(await waitUntil { balancer.errorOutput.contains("running as user nobody") })
            // The process's own status is its main thread's: what ps shows.
            let process = try #require(Self.read("/proc/\(balancer.pid)/status"))
            #expect(Self.ids(process, "Uid:") == Array(repeating: "\(nobody.pw_uid)", count: 4))
            #expect(Self.ids(process, "Gid:") == Array(repeating: "\(gid)", count: 4))
            let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(balancer.pid)/task")
            #expect(threads.contains("\(balancer.pid)") && threads.count > 1)
            for thread in threads {
                let status = try #require(Self.read("/proc/\(balancer.pid)/task/\(thread)/status"))
                #expect(Self.ids(status, "Uid:") == Array(repeating: "\(nobody.pw_uid)", count: 4), "thread \(thread)")
                #expect(Self.ids(status, "Gid:") == Array(repeating: "\(gid)", count: 4), "thread \(thread)")
            }
        }
    }

    @Test(
        "user nobody when not root: a warning, and it is ignored",
        .enabled(if: geteuid() != 0, "as root the user is switched (userNobody)"))
    func userIgnored() async throws {
        try await Self.asNobody { balancer in
            #expect(await waitUntil { balancer.errorOutput.contains("the \"user\" directive makes sense only if the balancer starts as root; ignored") })
        }
    }

    @Test("a stock Debian-layout nginx.conf (user, pid, error_log, modules-enabled, events, the stream block in an included file) runs unchanged, rooted in a temporary folder")
    func debianLayout() async throws {
        try await Scene.with(nginxConf: false) { scene in
            let (root, port) = (scene.dir, scene.port)
            // The fixture's absolute paths, moved under the folder; the ports filled in.
            let fixtures = BuiltBinary.packageRoot.appendingPathComponent("Tests/Fixtures/debian-nginx").path
            let files = try FileManager.default.subpathsOfDirectory(atPath: fixtures).filter {
                var folder: ObjCBool = false
                return FileManager.default.fileExists(atPath: "\(fixtures)/\($0)", isDirectory: &folder) && !folder.boolValue
            }
            #expect(files.sorted() == ["etc/nginx/modules-enabled/50-mod-stream.conf", "etc/nginx/nginx.conf", "etc/nginx/streams-enabled/chat"])
            for file in files {
                let text = try String(contentsOfFile: "\(fixtures)/\(file)", encoding: .utf8)
                    .replacingOccurrences(of: "/etc/nginx/", with: "\(root)/etc/nginx/")
                    .replacingOccurrences(of: "/run/", with: "\(root)/run/")
                    .replacingOccurrences(of: "/var/log/nginx/", with: "\(root)/var/log/nginx/")
                    .replacingOccurrences(of: "BACKEND_PORT", with: "\(scene.backend.port)")
                    .replacingOccurrences(of: "LISTEN_PORT", with: "\(port)")
                let path = "\(root)/\(file)"
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            }
            chmod(root, 0o755)
            for folder in ["run", "var/log/nginx"] {
                try FileManager.default.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
                // www-data must be able to remove its pid file on exit.
                chmod("\(root)/\(folder)", 0o777)
            }
            let balancer = try scene.balancer(["run", "--config", "\(root)/etc/nginx/nginx.conf", "--admin", "127.0.0.1:0"])
            #expect(await waitUntil { Self.read("\(root)/run/nginx.pid") == "\(balancer.pid)\n" }, "\(balancer.errorOutput)")
            #expect(try await TestClient.name(port: port) == "a")
            // error_log at nginx's default level (error): opened, and nothing logged at start.
            #expect(Self.read("\(root)/var/log/nginx/error.log") == "")
            if geteuid() == 0 {
                let uid = "\(try #require(getpwnam("www-data")).pointee.pw_uid)"
                let worker = try #require(FileManager.default.contentsOfDirectory(atPath: "/proc/\(balancer.pid)/task").first { $0 != "\(balancer.pid)" })
                #expect(await waitUntil {
                    Self.read("/proc/\(balancer.pid)/task/\(worker)/status")?.contains("Uid:\t\(uid)\t\(uid)\t\(uid)\t\(uid)") == true
                })
            }
            #expect(await balancer.exitStatus(after: SIGQUIT) == 0, "\(balancer.errorOutput)")
            #expect(!FileManager.default.fileExists(atPath: "\(root)/run/nginx.pid"))
        }
    }
}
