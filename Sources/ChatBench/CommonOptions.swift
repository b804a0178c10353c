import ArgumentParser
import ChatBenchCore
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
        try requireOption("--threads", self.threads, in: 1...64)
    }

    var durationNanos: UInt64 {
        UInt64(self.duration * 1e9)
    }
}

/// One rule for every numeric option: inside its range, or a message naming the flag.
func requireOption<Value: Comparable>(_ flag: String, _ value: Value, in range: ClosedRange<Value>, unit: String = "") throws {
    guard range.contains(value) else {
        throw ValidationError("\(flag) must be \(range.lowerBound)-\(range.upperBound)\(unit), got \(value)")
    }
}

/// The same for an option with only a lower bound.
func requireOption<Value: Comparable>(_ flag: String, _ value: Value, in range: PartialRangeFrom<Value>) throws {
    guard range.contains(value) else {
        throw ValidationError("\(flag) must be at least \(range.lowerBound), got \(value)")
    }
}

/// A cap on a whole run (`--count`, `--messages`; 0 for none) split over `parts` connections or
/// loops, rounded up so that together they reach it; `Int.max` for none.
func share(ofTotal total: Int, over parts: Int) -> Int {
    total > 0 ? (total + parts - 1) / parts : Int.max
}

/// The measured part of a run, in BenchClock nanoseconds: sending begins at `start`, warm-up
/// until `measureFrom`, nothing sent from `stopAt` on. The streaming modes send it down every
/// pipeline once all connections are open, so all start together.
struct MeasuredWindow: Sendable {
    var start: UInt64
    var measureFrom: UInt64
    var stopAt: UInt64

    init(startingAt start: UInt64, warmup: Double, durationNanos: UInt64) {
        self.start = start
        self.measureFrom = start + UInt64(warmup * 1e9)
        self.stopAt = self.measureFrom + durationNanos
    }

    /// Seconds measured by now (a count cap can end a run before `stopAt`), never zero.
    var elapsedSeconds: Double {
        let now = BenchClock.now()
        return max(Double(min(now, self.stopAt) - min(self.measureFrom, now)) / 1e9, 1e-9)
    }
}

extension EventLoopFuture where Value == any Channel {
    /// A connect that fails also fails the connection's `finished` promise, so nobody waits for it.
    func failing(_ finished: EventLoopPromise<Void>) -> EventLoopFuture<any Channel> {
        self.flatMapErrorThrowing { error in
            finished.fail(error)
            throw error
        }
    }
}
