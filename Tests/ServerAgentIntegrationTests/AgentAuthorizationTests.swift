import Foundation
import Logging
import MusterBase
import Registry
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Wrong credentials against a real ZooKeeper: digest login never fails, so the agent only learns
/// it when its first write gets NOAUTH. It must then stop with status 1 and say why, not retry
/// forever.
@Suite("server-agent with wrong credentials", .serialized)
struct AgentAuthorizationTests {
    @Test(arguments: [false, true])
    func aWrongPasswordEndsTheAgentWithStatusOne(supervised: Bool) async throws {
        try await TestScene.with { scene in
            let zk = try await scene.zooKeeper()
            let server = try await scene.backend(behaviour: .reply("PONG"))
            let path = AgentEndToEndTests.servicePath()
            let owner = DigestCredentials(user: "agent", password: "right-\(UUID().uuidString)")
            let admin = try ZooKeeperClient(
                configuration: ZooKeeperConfiguration(connectString: zk.connectString, credentials: owner), logger: Logger(label: "admin"))
            scene.onExit { await admin.close() }
            try await admin.waitUntilConnected(timeout: .seconds(20))
            let members = ServicePath.members(of: path)
            try await admin.create(members, makeParents: true)
            try await admin.setACL(members, [.digest(owner, .all), .world(.read)])

            let secret = "wrong-\(UUID().uuidString)"
            let authFile = try scene.file("auth", "agent:\(secret)\n").path
            let child = supervised ? ["--", "/bin/sleep", "30"] : []
            let agent = try scene.process(
                "server-agent",
                AgentEndToEndTests.agentArguments(
                    zk: zk.connectString, path: path, port: server.port, extra: ["--auth-file", authFile] + child))
            let status = await agent.waitForExit(timeout: .seconds(20))
            #expect(status == 1, "log:\n\(agent.log)")
            let log = agent.log
            #expect(log.contains("not authorized; exiting with status 1"), "log:\n\(log)")
            #expect(log.contains("not authorized: ZooKeeper denied create on \(members)/127.0.0.1-\(server.port)"), "log:\n\(log)")
            #expect(log.contains(authFile), "the message names the credentials file")
            #expect(!log.contains(secret) && !log.contains(owner.password), "a password appeared in the log")
            #expect(try await admin.getChildren(members).isEmpty)
        }
    }
}
