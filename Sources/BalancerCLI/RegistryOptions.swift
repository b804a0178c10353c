import ArgumentParser
import Balancer
import Registry
import MusterBase

/// Where to read the registry: `run`'s quick start and `members --zookeeper` take the same three
/// flags, checked by the rules the config's `zookeeper` directive is checked by, so every way of
/// naming a registry agrees. Each command says when they apply.
struct RegistryOptions: ParsableArguments {
    @Option(name: .long, help: "ZooKeeper connect string, e.g. 127.0.0.1:2181 or h1:2181,h2:2181/chroot.")
    var zookeeper: String?

    @Option(name: .long, help: "The service path in ZooKeeper, e.g. /muster/services/chat (members are its /members children).")
    var path: String?

    @Option(name: .customLong("auth-file"), help: "File with 'user:password' for ZooKeeper digest auth.")
    var authFile: String?

    /// Whether any of the three was given.
    var isGiven: Bool { [self.zookeeper, self.path, self.authFile].contains { $0 != nil } }

    func validate() throws {
        if let zookeeper = self.zookeeper {
            do { _ = try ZooKeeperConfiguration(connectString: zookeeper).parsed() } catch {
                throw ValidationError("bad --zookeeper: \(error.description)")
            }
        }
        if let path = self.path, let problem = ServicePath.serviceProblem(with: path) {
            throw ValidationError("bad --path '\(UntrustedText.escaped(path))': \(problem)")
        }
    }
}
