import ArgumentParser
import ChatBenchCore
import Histogram
import NIOCore
import NIOPosix
import SystemLimits

/// `chat-bench connect`: new connections per second, each doing one echo before closing.
struct ConnectCommand: BenchMode, SourceSpreadDefault {
    static let mode = "connect"
    static let abstract = "Connect, one echo, close, over and over; connections/s and connect latency percentiles."

    @OptionGroup var common: CommonOptions

    @Option(name: .shortAndLong, help: "Concurrent connect loops.")
    var concurrency: Int = 16

    @Option(name: .long, help: "Stop after this many connections in total (0 = only --duration bounds the run).")
    var count: Int = 0

    @OptionGroup var size: MessageSizeOption
    @OptionGroup var sources: SourceSpreadOption<Self>
    @OptionGroup var warmup: WarmupOption

    /// Connect's default spread: none; the kernel picks the source port of each connection.
    static let defaultSources = 0

    func validate() throws {
        try requireOption("--concurrency", self.concurrency, in: 1...10_000)
        try requireOption("--count", self.count, in: 0...)
    }

    struct Report: BenchReport, Encodable {
        var mode = ConnectCommand.mode
        var target: String
        var concurrency: Int
        var durationSeconds: Double
        var connections: UInt64
        var connectionsPerSecond: Double
        var failures: UInt64
        var connect: LatencySummary
        var firstEcho: LatencySummary
        var firstError: String?

        var figures: [(String, String)] {
            [
                ("concurrency", "\(self.concurrency)"),
                ("measured", "\(self.durationSeconds) s"),
                ("connections", "\(self.connections)"),
                ("connections/s", "\(Int(self.connectionsPerSecond.rounded()))"),
                ("connect p50/p99/p99.9/max", self.connect.cell),
                ("first echo p50/p99/p99.9/max", self.firstEcho.cell),
                ("failures", "\(self.failures)"),
            ]
        }
    }

    func measure(target: BenchTarget, group: MultiThreadedEventLoopGroup, openFilesLimit _: UInt64) async throws -> Report {
        try self.sources.check(for: target)
        let shards = try await EventLoopShards<ConnectStats>.make(on: group) { ConnectStats() }
        let window = MeasuredWindow(startingAt: BenchClock.now(), warmup: self.warmup.warmup, durationNanos: self.common.durationNanos)
        let budget = share(ofTotal: self.count, over: self.concurrency)
        var done: [EventLoopFuture<Void>] = []
        for index in 0..<self.concurrency {
            let loop = shards.loop(for: index)
            let stats = shards.stats(for: index)
            let promise = loop.makePromise(of: Void.self)
            done.append(promise.futureResult)
            let source = self.sources.address(for: index)
            let size = self.size.size
            loop.execute {
                ConnectWorker(
                    loop: loop,
                    target: target.address,
                    source: source,
                    size: size,
                    window: window,
                    budget: budget,
                    stats: stats.value,
                    done: promise
                ).next()
            }
        }
        for future in done {
            try await future.get()
        }
        let measuredSeconds = window.elapsedSeconds

        let parts = try await shards.collect { stats in
            (stats.connectLatency, stats.firstEchoLatency, stats.completed, stats.failures, stats.firstError)
        }
        var connect = LatencySummary.makeHistogram()
        var firstEcho = LatencySummary.makeHistogram()
        var completed: UInt64 = 0
        var failures: UInt64 = 0
        var firstError: String?
        for part in parts {
            connect.add(part.0)
            firstEcho.add(part.1)
            completed += part.2
            failures += part.3
            firstError = firstError ?? part.4
        }
        return Report(
            target: target.description,
            concurrency: self.concurrency,
            durationSeconds: (measuredSeconds * 1000).rounded() / 1000,
            connections: completed,
            connectionsPerSecond: Double(completed) / measuredSeconds,
            failures: failures,
            connect: LatencySummary(connect),
            firstEcho: LatencySummary(firstEcho),
            firstError: firstError
        )
    }
}
