import ArgumentParser

/// `balancer`: the Muster TCP load balancer (started by `BalancerMain`).
struct BalancerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "balancer",
        abstract: "TCP load balancer with live membership from ZooKeeper (nginx stream {} compatible).",
        subcommands: [RunCommand.self, CheckCommand.self, MembersCommand.self]
    )
}
