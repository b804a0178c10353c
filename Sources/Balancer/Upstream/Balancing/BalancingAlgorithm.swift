import MusterBase

/// One way of choosing a member for a new connection, owning everything about itself, as HAProxy's
/// `lb_ops` and Envoy's per-policy load balancers do: the directive that selects it in an
/// `upstream` block and its parameters, the text the admin endpoint shows, the state it derives from
/// the members (a ring, weight ranges), and the pick.
///
/// The group (`PoolState`) owns the members, their passive health and storms; it calls
/// `rebuild` after every change of the member list or of a weight and `pick` per connection, so an
/// algorithm never sees a change it could miss. A new method is one file that conforms and one line
/// in `BalancingMethod.algorithms`.
protocol BalancingAlgorithm: Sendable, CustomStringConvertible {
    /// The `upstream` block directive that selects the algorithm (`least_conn`); nil for round
    /// robin, which applies when there is none.
    static var directive: String? { get }
    /// How many arguments the directive takes (the config validator checks the count).
    static var argumentCount: ClosedRange<Int> { get }
    /// The arguments that are string values (`hash`'s key), as `ConfigCommand.text`; nil for none.
    static var textArguments: PartialRangeFrom<Int>? { get }
    /// Reads the directive's arguments, already counted.
    static func parse(_ arguments: [String]) throws(BalancingParameterError) -> Self

    /// The method as `GET /members` and `balancer members` show it, naming every parameter that
    /// changes picks (`hash consistent`). Two methods with the same text pick alike.
    var description: String { get }
    /// Whether `server ... backup` is allowed (nginx refuses it with hash and random).
    var supportsBackup: Bool { get }
    /// Whether `slow_start=` ramps weights; otherwise `balancer check` warns that it is ignored.
    var rampsSlowStart: Bool { get }
    /// Whether picks read the client's address, which the engine then formats for each connection.
    var needsClientAddress: Bool { get }
    /// A key the engine evaluates per connection and passes as `clientAddress` (`hash KEY`).
    var pickKey: StreamTemplate? { get }

    /// Derives the algorithm's own state from the members (listed ones: see `PeerState.listed`).
    mutating func rebuild(_ members: [PoolMember])
    /// Chooses an eligible member (`context.isEligible`) and returns its index, updating the
    /// round-robin weights it used; nil when none is eligible. `random` is the group's seeded
    /// generator (fixed in tests).
    mutating func pick(
        _ members: inout [PoolMember], clientAddress: String?, context: PickContext, random: inout SplitMix64
    ) -> Int?
}

extension BalancingAlgorithm {
    static var textArguments: PartialRangeFrom<Int>? { nil }
    var supportsBackup: Bool { true }
    var rampsSlowStart: Bool { true }
    var needsClientAddress: Bool { false }
    var pickKey: StreamTemplate? { nil }
    mutating func rebuild(_ members: [PoolMember]) {}

    /// The method the directive's arguments select, or what is wrong with them.
    static func method(_ arguments: [String]) -> Result<BalancingMethod, BalancingParameterError> {
        do throws(BalancingParameterError) {
            return .success(BalancingMethod(try parse(arguments)))
        } catch {
            return .failure(error)
        }
    }

    /// nginx's bound on how often hash and random try again after an ineligible member before
    /// round robin takes over (20 in both modules).
    static var maximumTries: Int { 20 }
}

/// A directive argument the algorithm does not take, with the index of the argument and why.
struct BalancingParameterError: Error, Sendable {
    var argument: Int
    var message: String
}

/// An algorithm whose directive takes no arguments (round robin, `least_conn`).
protocol ParameterlessBalancing: BalancingAlgorithm {
    init()
}

extension ParameterlessBalancing {
    static var argumentCount: ClosedRange<Int> { 0...0 }
    static func parse(_ arguments: [String]) throws(BalancingParameterError) -> Self { Self() }
}
