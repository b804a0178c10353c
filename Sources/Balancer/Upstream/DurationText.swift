/// Short durations for state reasons: `12s`, `60s`, `5m`, `2m30s`.
enum DurationText {
    static func short(_ duration: Duration) -> String {
        let seconds = max(0, duration.components.seconds)
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        let rest = seconds % 60
        return rest == 0 ? "\(minutes)m" : "\(minutes)m\(rest)s"
    }
}
