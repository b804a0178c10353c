import Foundation
import Logging
import MusterBase
import Registry
import Testing
import TestSupport

/// `deploy/zookeeper/set-acls.sh` (through `muster-acl`) against a real ZooKeeper: passwords with
/// spaces, backslashes, quotes and `\c` survive; one identity per agent keeps agents out of each
/// other's records; every failure exits non-zero.
@Suite("set-acls.sh", .serialized)
struct SetACLsTests {
    static let logger = Logger(label: "test.set-acls")

    /// Runs the script with `muster-acl` from this build, bounded by `timeout`.
    static func setACLs(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> ChildProcess.Finished {
        try await ChildProcess.run(
            executable: BuiltBinary.packageRoot.appendingPathComponent("deploy/zookeeper/set-acls.sh"), arguments,
            environment: ["MUSTER_BIN_DIR": try binDirectory().path], timeout: timeout)
    }

    /// The folder `swift test` built `muster-acl` into (see `BuiltBinary`).
    static func binDirectory() throws -> URL {
        try BuiltBinary.url("muster-acl").deletingLastPathComponent()
    }

    static func credentialsFile(_ folder: URL, _ name: String, _ line: String) throws -> String {
        let file = folder.appendingPathComponent(name)
        try Data((line + "\n").utf8).write(to: file)
        return file.path
    }

    static func client(_ server: ZooKeeperServer, _ credentials: DigestCredentials?) async throws -> ZooKeeperClient {
        try await server.client(credentials: credentials, logger: logger)
    }

    static func code(_ body: () async throws -> Void) async -> ZooKeeperError.Code? {
        do {
            try await body()
            return nil
        } catch let error as ZooKeeperError {
            return error.code
        } catch {
            return .systemError
        }
    }

    @Test func anyPasswordWorksAndAgentsCannotTouchEachOther() async throws {
        try await ZooKeeperServer.with { server in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-acl-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let admin = DigestCredentials(user: "admin", password: #"p a s s\c"' $HOME `x` \\ %s"#)
            let agent1 = DigestCredentials(user: "agent-chat-1", password: "with space")
            let agent2 = DigestCredentials(user: "agent-chat-2", password: #"back\slash\c"#)
            let balancer = DigestCredentials(user: "balancer", password: "-n -e")
            let files = (
                admin: try Self.credentialsFile(folder, "admin.auth", admin.user + ":" + admin.password),
                agent1: try Self.credentialsFile(folder, "agent1.auth", agent1.user + ":" + agent1.password),
                agent2: try Self.credentialsFile(folder, "agent2.auth", agent2.user + ":" + agent2.password),
                balancer: try Self.credentialsFile(folder, "balancer.auth", balancer.user + ":" + balancer.password))
            let service = "/muster/services/chat"
            let members = ServicePath.members(of: service)

            let first = try await Self.setACLs([
                "--zookeeper", server.connectString, "--path", service, "--admin", files.admin,
                "--agent", files.agent1, "--agent", files.agent2, "--balancer", files.balancer,
            ])
            #expect(first.status == 0, "\(first.error)")
            #expect(first.output.contains("digest:agent-chat-1 cdr"))
            #expect(first.output.contains("digest:agent-chat-2 cdr"))
            #expect(first.output.contains("digest:balancer r"))
            #expect(!first.output.contains(admin.password) && !first.error.contains(admin.password))

            let adminClient = try await Self.client(server, admin)
            let acl = try await adminClient.getACL(members)
            #expect(Set(acl) == [
                .digest(admin, .all), .digest(agent1, [.create, .delete, .read]),
                .digest(agent2, [.create, .delete, .read]), .digest(balancer, .read),
            ])

            let one = try await Self.client(server, agent1)
            let two = try await Self.client(server, agent2)
            let reader = try await Self.client(server, balancer)
            let anonymous = try await Self.client(server, nil)
            let wrong = try await Self.client(server, DigestCredentials(user: "agent-chat-1", password: "guess"))
            defer {
                Task {
                    for client in [adminClient, one, two, reader, anonymous, wrong] { await client.close() }
                }
            }
            // Each agent registers as Registration does: ephemeral, creator all, world read.
            try await one.create(members + "/chat-1", data: Array("one".utf8), mode: .ephemeral, acl: .creatorAllWorldRead)
            try await two.create(members + "/chat-2", data: Array("two".utf8), mode: .ephemeral, acl: .creatorAllWorldRead)
            #expect(await Self.code { _ = try await two.setData(members + "/chat-1", data: Array("forged".utf8)) } == .noAuth)
            #expect(await Self.code { _ = try await one.setData(members + "/chat-2", data: Array("forged".utf8)) } == .noAuth)
            #expect(try await reader.getData(members + "/chat-1").data == Array("one".utf8))
            #expect(Set(try await reader.getChildren(members)) == ["chat-1", "chat-2"])
            #expect(await Self.code { _ = try await reader.create(members + "/fake", mode: .ephemeral) } == .noAuth)
            #expect(await Self.code { _ = try await anonymous.create(members + "/fake", mode: .ephemeral) } == .noAuth)
            #expect(await Self.code { _ = try await wrong.create(members + "/fake", mode: .ephemeral) } == .noAuth)
            #expect(await Self.code { try await reader.setACL(members, [.world(.all)]) } == .noAuth)

            // Running it again with the wrong admin password fails, naming the path, not the secret.
            let impostor = try Self.credentialsFile(folder, "impostor.auth", "admin:not the password")
            let denied = try await Self.setACLs([
                "--zookeeper", server.connectString, "--path", service, "--admin", impostor,
                "--agent", files.agent1, "--balancer", files.balancer,
            ])
            #expect(denied.status == 1)
            #expect(denied.error.contains("not authorized to change the ACL of \(members)"), "\(denied.error)")
            #expect(!denied.error.contains("not the password"))
            #expect(Set(try await adminClient.getACL(members)) == Set(acl))

            // A missing credentials file fails before anything is changed.
            let missing = try await Self.setACLs([
                "--zookeeper", server.connectString, "--path", service, "--admin", files.admin,
                "--agent", folder.appendingPathComponent("nope.auth").path, "--balancer", files.balancer,
            ])
            #expect(missing.status == 1)
            #expect(missing.error.contains("nope.auth"))
        }
    }

    @Test func unreachableZooKeeperFails() async throws {
        let dead = try DeadPort()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("muster-acl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = try Self.credentialsFile(folder, "a.auth", "a:b")
        let run = try await Self.setACLs([
            "--zookeeper", "127.0.0.1:\(dead.port)", "--path", "/svc", "--admin", file,
            "--agent", file, "--balancer", file, "--timeout", "2",
        ])
        #expect(run.status == 1)
        #expect(run.error.contains("cannot reach ZooKeeper at 127.0.0.1:\(dead.port)"), "\(run.error)")
        let bad = try await Self.setACLs(["--zookeeper", "127.0.0.1:1", "--path", "relative", "--admin", file, "--agent", file, "--balancer", file])
        #expect(bad.status != 0)
    }
}
