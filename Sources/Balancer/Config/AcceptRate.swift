/// `accept_rate N [burst=M];` in a `server` block (HAProxy's `rate-limit sessions`): each `listen`
/// of the block accepts at most `rate` new clients a second, plus `burst` at once after a quiet
/// spell. Above it the balancer stops accepting for a moment and clients wait in the kernel's
/// accept queue (`listen ... backlog=`), so a reconnect storm is admitted at a steady pace.
public struct AcceptRate: Sendable, Equatable {
    /// New clients per second, 1 to `maximumRate`.
    public var rate: Int
    /// Clients admitted at once beyond the steady pace, 0 (the default) to `maximumBurst`.
    public var burst: Int

    /// Beyond a million a second the limit is no limit on this engine.
    public static let maximumRate = 1_000_000
    /// More than a minute's worth of a large rate is a typo, not a burst.
    public static let maximumBurst = 1_000_000

    public init(rate: Int, burst: Int = 0) {
        self.rate = rate
        self.burst = burst
    }
}
