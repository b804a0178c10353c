import ArgumentParser
import Foundation
import Logging
import MusterBase
import MusterCLI
import Registry

/// Locks a service's members path down with digest ACLs: the operator (`--admin`) may do
/// everything, each agent identity (`--agent`, one per ChatServer if you like) may create,
/// delete and list members, each balancer identity (`--balancer`) may only read.
///
/// It talks to ZooKeeper through the Registry's client rather than zkCli: zkCli splits its input
/// on whitespace and has no exit status for a failed command, so a password with a space or a
/// backslash was mangled and a failure still exited 0. Here passwords are read from files, never
/// seen by a shell, never printed; every step's failure ends the run with status 1.
@main
struct MusterACL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muster-acl",
        abstract: "Set digest ACLs on a Muster service path (run as the admin identity).",
        discussion: """
            Each FILE holds one line `user:password`. The ACL goes on SERVICE_PATH/members; missing \
            ancestors are created with the admin allowed everything and everyone allowed to read. \
            Member nodes are created by agents with "creator all, world read", so with one agent \
            identity per ChatServer no agent can rewrite another's record. Exit status: 0 when the \
            ACL is in place and read back, 1 on any failure, 64 on bad arguments.
            """)

    @Option(help: "ZooKeeper connect string, e.g. 127.0.0.1:2181 or h1:2181,h2:2181/chroot.")
    var zookeeper: String

    @Option(help: "The service path (what server-agent --path and the balancer's path= take).")
    var path: String

    @Option(help: "Credentials file of the operator identity, which owns the path.")
    var admin: String

    @Option(help: "Credentials file of an agent identity (repeat for one per ChatServer).")
    var agent: [String] = []

    @Option(help: "Credentials file of a balancer identity (repeat for several).")
    var balancer: [String] = []

    @Option(help: "How long to wait for ZooKeeper (15, 15s, 500ms, 1m; a bare number is seconds).", transform: DurationArgument.parse)
    var timeout = DurationArgument(.seconds(15))

    func validate() throws {
        // The rule the agent's --path and the balancer's path= follow: this is the same path.
        if let problem = ServicePath.serviceProblem(with: path) {
            throw ValidationError("bad --path '\(UntrustedText.escaped(path))': \(problem)")
        }
        guard !agent.isEmpty else { throw ValidationError("give at least one --agent credentials file") }
        guard !balancer.isEmpty else { throw ValidationError("give at least one --balancer credentials file") }
        guard (.seconds(1)...(.seconds(600))).contains(timeout.duration) else {
            throw ValidationError("--timeout must be from 1s to 10m, got \(DurationSyntax.format(timeout.duration))")
        }
    }

    func run() async throws {
        do {
            try await apply()
        } catch {
            FileHandle.standardError.write(Data("muster-acl: error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    struct Failure: Error {
        var message: String
    }

    private func credentials(_ file: String) throws(Failure) -> DigestCredentials {
        do {
            return try DigestCredentials.load(fromFile: file)
        } catch {
            throw Failure(message: error.description)
        }
    }

    private func apply() async throws(Failure) {
        let adminCredentials = try credentials(admin)
        let agents = try agent.map { file throws(Failure) in try credentials(file) }
        let balancers = try balancer.map { file throws(Failure) in try credentials(file) }
        let membersPath = ServicePath.members(of: path)

        var wanted = [ACLEntry.digest(adminCredentials, .all)]
        wanted += agents.map { ACLEntry.digest($0, [.create, .delete, .read]) }
        wanted += balancers.map { ACLEntry.digest($0, .read) }
        // One identity given twice (the same file, or two agents sharing credentials) is one entry.
        var seen = Set<String>()
        wanted = wanted.filter { seen.insert($0.id).inserted }
        let ancestorACL: [ACLEntry] = [.digest(adminCredentials, .all), .world(.read)]

        var logger = Logger(label: "muster-acl")
        logger.logLevel = .critical
        let client: ZooKeeperClient
        do {
            client = try ZooKeeperClient(
                configuration: ZooKeeperConfiguration(connectString: zookeeper, credentials: adminCredentials),
                logger: logger)
        } catch {
            throw Failure(message: "\(error)")
        }
        do {
            try await client.waitUntilConnected(timeout: timeout.duration)
        } catch {
            await client.close()
            throw Failure(message: "cannot reach ZooKeeper at \(zookeeper) within \(DurationSyntax.format(timeout.duration)): \(error)")
        }
        do {
            try await lockDown(client, membersPath: membersPath, wanted: wanted, ancestorACL: ancestorACL)
            await client.close()
        } catch {
            await client.close()
            throw error
        }
    }

    private func lockDown(_ client: ZooKeeperClient, membersPath: String, wanted: [ACLEntry], ancestorACL: [ACLEntry]) async throws(Failure) {
        let hint = "; the --admin identity (\(admin)) must be the one that owns the path"
        var prefix = ""
        for component in membersPath.split(separator: "/").dropLast() {
            prefix += "/" + component
            do {
                // ZooKeeper checks the parent's create permission before it looks for the node,
                // so an existing ancestor is looked up first (everyone may read ancestors).
                if try await client.exists(prefix) != nil { continue }
                try await client.create(prefix, acl: .entries(ancestorACL))
                print("created \(prefix)")
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                continue
            } catch let error as ZooKeeperError where error.code == .noAuth {
                throw Failure(message: "not authorized to create \(prefix)\(hint)")
            } catch {
                throw Failure(message: "cannot create \(prefix): \(error)")
            }
        }
        let exists: Bool
        do {
            exists = try await client.exists(membersPath) != nil
        } catch {
            throw Failure(message: "cannot look up \(membersPath): \(error)")
        }
        do {
            if exists {
                try await client.setACL(membersPath, wanted)
            } else {
                try await client.create(membersPath, acl: .entries(wanted))
                print("created \(membersPath)")
            }
        } catch let error as ZooKeeperError where error.code == .noAuth {
            throw Failure(message: "not authorized to \(exists ? "change the ACL of" : "create") \(membersPath)\(hint)")
        } catch {
            throw Failure(message: "cannot \(exists ? "set the ACL of" : "create") \(membersPath): \(error)")
        }
        let actual: [ACLEntry]
        do {
            actual = try await client.getACL(membersPath)
        } catch {
            throw Failure(message: "cannot read back the ACL of \(membersPath): \(error)")
        }
        guard Set(actual) == Set(wanted) else {
            throw Failure(message: "the ACL of \(membersPath) read back differs from the one set (\(actual.count) entries, \(wanted.count) expected)")
        }
        // Identities by user name and permissions only: the digest hashes stay out of the output.
        print("ACL of \(membersPath):")
        for entry in actual {
            let user = entry.scheme == "digest" ? String(entry.id.prefix { $0 != ":" }) : entry.id
            print("  \(entry.scheme):\(user) \(entry.permissions.letters)")
        }
    }
}
