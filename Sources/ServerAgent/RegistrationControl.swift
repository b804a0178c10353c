import Registry

/// What the agent needs from a registration: switch it on and off, rewrite its record.
/// A protocol so the agent's decisions can be tested without a ZooKeeper.
public protocol RegistrationControl: Sendable {
    func setActive(_ active: Bool)
    /// Going inactive on purpose: `leaving` is the reason written into the record before the delete.
    func setActive(_ active: Bool, leaving: String?)
    func update(_ record: MemberRecord)
}

extension RegistrationControl {
    public func setActive(_ active: Bool, leaving: String?) {
        setActive(active)
    }
}

extension Registration: RegistrationControl {}
