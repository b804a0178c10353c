/// Flap damping settings for discovered members (`flap_limit=`, `flap_window=`, `flap_hold=`,
/// `flap_max_hold=` on the `zookeeper` directive): Envoy's outlier ejection with growing hold-downs.
///
/// A member that goes in or out of service more than `limit` times within `window` is held out for
/// `hold` times the number of its ejections so far, at most `maxHold` (Envoy's `base_ejection_time`
/// and `max_ejection_time`). The count of ejections resets once the member has gone `maxHold`
/// without a change.
public struct FlapDamping: Sendable, Equatable {
    /// More changes than this within `window` eject the member; 0 disables damping. Default 4, so
    /// the fifth change in a minute ejects: an agent restart costs two changes (out, in), a rolling
    /// deploy at most that, while a crash loop under a supervisor reaches five within seconds.
    public var limit: Int
    /// Default 60s.
    public var window: Duration
    /// First hold-down, default 30s (Envoy's `base_ejection_time`).
    public var hold: Duration
    /// Longest hold-down and the stable time that resets the count, default 5m (Envoy's
    /// `max_ejection_time`).
    public var maxHold: Duration

    public init(limit: Int = 4, window: Duration = .seconds(60), hold: Duration = .seconds(30), maxHold: Duration = .seconds(300)) {
        self.limit = limit
        self.window = window
        self.hold = hold
        self.maxHold = maxHold
    }

    /// Off: no member is ever damped.
    public static let disabled = FlapDamping(limit: 0)
}
