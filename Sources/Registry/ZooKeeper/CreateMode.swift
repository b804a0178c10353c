/// How a node is created.
public enum CreateMode: Sendable, Hashable {
    case persistent
    case ephemeral
    case persistentSequential
    case ephemeralSequential
}
