/// The result of one health check.
public enum CheckOutcome: Sendable, Equatable {
    case healthy
    /// The check failed; the reason ends up in the transition log line.
    case unhealthy(String)

    /// `true` for ``healthy``.
    public var isHealthy: Bool {
        if case .healthy = self { return true }
        return false
    }
}
