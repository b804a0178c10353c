import Balancer
import Foundation
import MusterBase
import TestSupport

/// The built `balancer` run on a config file of its own, its listener on a free port, with an
/// admin endpoint of its own: what the executable's tests drive with signals and edits.
struct BalancerProcess {
    let process: ChildProcess
    let admin: Endpoint
    /// The listener's port, free when the config was written.
    let port: Int
    let config: TemporaryFile

    /// Writes `config(port)` for a free `port`, runs `balancer run --config` with `extra` flags
    /// and waits until the admin endpoint answers (a deadline against a hang; the log in the
    /// error). The process is killed and the file removed when `scene` ends.
    static func start(in scene: TestScene, _ extra: [String], config: (_ port: Int) -> String) async throws -> BalancerProcess {
        let port = try freeLoopbackPort()
        let file = try scene.file("balancer-bin", suffix: ".conf", config(port))
        let admin = Endpoint(host: "127.0.0.1", port: try freeLoopbackPort())
        let process = try scene.process("balancer", ["run", "--config", file.path, "--admin", admin.description] + extra)
        guard await waitUntil(timeout: .seconds(30), { (try? await AdminClient.get("/healthz", from: admin)) != nil }) else {
            process.kill()
            throw TestSupportError("the balancer never answered on \(admin): \(process.log)")
        }
        return BalancerProcess(process: process, admin: admin, port: port, config: file)
    }

    /// Replaces the config with `text` and sends SIGHUP, as an operator reloading would.
    func reload(_ text: String) throws {
        try self.config.write(text)
        self.process.signal(SIGHUP)
    }
}
