import ArgumentParser
import NIOCore

/// Options every mode shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Echo server or proxy to load, host:port; loopback addresses only.")
    var target: String = "127.0.0.1:6000"

    @Option(name: .long, help: "Length of the measured phase in seconds.")
    var duration: Double = 10

    @Option(name: .long, help: "Event loop threads for the load generator.")
    var threads: Int = 1

    @Flag(name: .long, help: "Print one JSON object instead of the table.")
    var json = false

    func validate() throws {
        _ = try BenchTarget(parsing: self.target)
        guard self.duration > 0, self.duration <= 3600 else {
            throw ValidationError("--duration must be in (0, 3600] seconds, got \(self.duration)")
        }
        guard (1...64).contains(self.threads) else {
            throw ValidationError("--threads must be 1-64, got \(self.threads)")
        }
    }

    var durationNanos: UInt64 {
        UInt64(self.duration * 1e9)
    }
}
