/// How an upstream group chooses a member for a new client connection (nginx semantics).
public enum BalancingMethod: Sendable, Equatable {
    /// Smooth weighted round robin, nginx's default.
    case roundRobin
    /// `least_conn`: fewest active connections relative to weight; ties by weighted round robin.
    case leastConn
    /// `hash $remote_addr [consistent]`: the client address decides; `consistent` is ketama-style.
    case hash(consistent: Bool)
    /// `random [two]`: weighted random; `two` picks the less loaded of two random members.
    case random(two: Bool)
}
