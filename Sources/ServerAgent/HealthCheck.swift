/// One kind of health check. Implementations enforce their own timeout, because a check that
/// waits on a NIO future cannot be interrupted by task cancellation.
public protocol HealthCheck: Sendable {
    /// Runs one check; never takes (much) longer than the timeout it was built with.
    func run() async -> CheckOutcome
}
