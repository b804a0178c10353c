/// nginx Plus's `slow_start=T`: a member that joins, or comes back from unavailable, gets an
/// effective weight that ramps linearly from 10% to 100% of its weight over T.
///
/// Pickers work in per-mille of weight so a weight-1 member can ramp too: round robin and
/// `least_conn` multiply every member's weight by its factor (1000 outside slow start), which gives
/// exactly nginx's sequences when no member ramps.
enum SlowStart {
    static let full = 1000
    static let start = 100

    /// The weight factor in per-mille, `elapsed` after the ramp began.
    @inline(__always)
    static func permille(elapsed: Duration, over duration: Duration) -> Int {
        guard duration > .zero, elapsed < duration else { return full }
        guard elapsed > .zero else { return start }
        return start + Int(Double(full - start) * (elapsed / duration))
    }
}
