/// A flag value, or a combination of flags, that the agent cannot run with.
public struct AgentConfigurationError: Error, Equatable, CustomStringConvertible {
    /// The flag at fault, e.g. `--rise`.
    public var flag: String
    public var problem: String

    public var description: String { "\(flag): \(problem)" }
}
