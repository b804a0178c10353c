/// How an upstream group chooses a member for a new client connection (nginx semantics): one
/// `BalancingAlgorithm` with its parameters, as the configuration names it. The algorithms
/// themselves live in one file each; each adds its spelling (`.leastConn`, `.hash(consistent:)`).
public struct BalancingMethod: Sendable, Equatable, CustomStringConvertible {
    /// Every algorithm a config can select: the validator finds a directive's algorithm here.
    static let algorithms: [any BalancingAlgorithm.Type] = [
        RoundRobinBalancing.self, LeastConnBalancing.self, HashBalancing.self, RandomBalancing.self,
    ]

    /// The algorithm as configured, with no derived state yet (each group rebuilds its own copy).
    let algorithm: any BalancingAlgorithm

    init(_ algorithm: some BalancingAlgorithm) {
        self.algorithm = algorithm
    }

    /// Smooth weighted round robin, nginx's default.
    public static let roundRobin = BalancingMethod(RoundRobinBalancing())

    /// The algorithm an `upstream` block directive selects, if it is one.
    static func algorithm(forDirective name: String) -> (any BalancingAlgorithm.Type)? {
        algorithms.first { $0.directive == name }
    }

    /// `round_robin`, `least_conn`, `hash consistent`, `random two`.
    public var description: String { algorithm.description }

    /// The same algorithm with the same parameters (the description names every parameter).
    public static func == (lhs: BalancingMethod, rhs: BalancingMethod) -> Bool {
        type(of: lhs.algorithm) == type(of: rhs.algorithm) && lhs.description == rhs.description
    }
}
