import ArgumentParser
import MusterBase

/// A duration flag (`balancer run --drain-timeout`, `balancer members --timeout`, `muster-acl
/// --timeout`): ``DurationSyntax`` through ArgumentParser, a bare number as seconds (`30`, `30s`,
/// `500ms`, `2m`, `1m30s`, `1.5s`). Only the adapter: the syntax is DurationSyntax's. The agent's
/// flags go through `AgentConfiguration` instead, so their rules (a bare number refused) are
/// tested without a process.
public struct DurationArgument: ExpressibleByArgument, Sendable {
    public var duration: Duration

    public init(_ duration: Duration) {
        self.duration = duration
    }

    public init?(argument: String) {
        guard let parsed = try? Self.parse(argument) else { return nil }
        self = parsed
    }

    /// The flags' transform: unlike `init?(argument:)`, its error says what is wrong (unknown
    /// unit, longer than the largest supported duration, ...).
    @Sendable public static func parse(_ argument: String) throws(DurationSyntax.ParseError) -> DurationArgument {
        DurationArgument(try DurationSyntax.parse(argument, bareNumber: .seconds))
    }

    public var defaultValueDescription: String {
        DurationSyntax.format(self.duration)
    }
}
