import ArgumentParser
import MusterBase

/// A duration flag of `balancer` (`--drain-timeout`, `--timeout`): ``DurationSyntax`` with a bare
/// number as seconds (`30`, `30s`, `500ms`, `2m`, `1m30s`, `1.5s`).
struct DurationArgument: ExpressibleByArgument, Sendable {
    var duration: Duration

    init(_ duration: Duration) {
        self.duration = duration
    }

    init?(argument: String) {
        guard let parsed = try? Self.parse(argument) else { return nil }
        self = parsed
    }

    /// The flags' transform: unlike `init?(argument:)`, its error says what is wrong (unknown
    /// unit, longer than the largest supported duration, ...).
    @Sendable static func parse(_ argument: String) throws(DurationSyntax.ParseError) -> DurationArgument {
        DurationArgument(try DurationSyntax.parse(argument, bareNumber: .seconds))
    }

    var defaultValueDescription: String {
        DurationSyntax.format(self.duration)
    }
}
