/// A group's storm state for the admin endpoint and `/metrics`.
public struct StormStatus: Sendable, Equatable, Codable {
    /// Lost members are being kept as suspects (the panic threshold applies).
    public var panicking: Bool
    /// Times the group entered panic.
    public var panicEntries: Int
    /// Flap-damping ejections.
    public var ejections: Int

    public init(panicking: Bool = false, panicEntries: Int = 0, ejections: Int = 0) {
        self.panicking = panicking
        self.panicEntries = panicEntries
        self.ejections = ejections
    }
}
