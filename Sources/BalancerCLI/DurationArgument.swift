import ArgumentParser

/// A duration on the command line: "30" (seconds), "30s", "500ms", "2m".
struct DurationArgument: ExpressibleByArgument, Sendable {
    var duration: Duration

    init(_ duration: Duration) {
        self.duration = duration
    }

    init?(argument: String) {
        let units: [(String, Duration)] = [("ms", .milliseconds(1)), ("s", .seconds(1)), ("m", .seconds(60)), ("h", .seconds(3600))]
        for (suffix, unit) in units where argument.hasSuffix(suffix) {
            guard let value = Int(argument.dropLast(suffix.count)), value >= 0 else { return nil }
            self.duration = unit * value
            return
        }
        guard let seconds = Int(argument), seconds >= 0 else { return nil }
        self.duration = .seconds(seconds)
    }

    var defaultValueDescription: String {
        "\(self.duration.components.seconds)s"
    }
}
