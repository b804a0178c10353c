/// Envoy's panic threshold for registry storms: when lost members (nodes that vanished without a
/// `leaving` mark) would leave fewer than `percent`% of the group in service, they are kept as
/// suspects instead of being removed.
enum PanicThreshold {
    /// Whether losing `lost` members, with `registered` still registered and in service, panics.
    /// `percent == 0` disables the rule. Leaving members are counted in neither.
    static func panics(registered: Int, lost: Int, percent: Int) -> Bool {
        guard percent > 0, lost > 0 else { return false }
        return registered * 100 < percent * (registered + lost)
    }
}
