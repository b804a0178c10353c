import Registry

/// What the agent needs from a registration: switch it on and off, rewrite its record.
/// A protocol so the agent's decisions can be tested without a ZooKeeper.
public protocol RegistrationControl: Sendable {
    func setActive(_ active: Bool)
    func update(_ record: MemberRecord)
}

extension Registration: RegistrationControl {}
