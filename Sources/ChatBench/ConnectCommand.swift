import ArgumentParser
import Histogram
import NIOCore
import NIOPosix
import SystemLimits

/// `chat-bench connect`: new connections per second, each doing one echo before closing.
struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Connect, one echo, close, over and over; connections/s and connect latency percentiles."
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .shortAndLong, help: "Concurrent connect loops.")
    var concurrency: Int = 16

    @Option(name: .long, help: "Stop after this many connections in total (0 = only --duration bounds the run).")
    var count: Int = 0

    @Option(name: .long, help: "Size of the one echoed message, in bytes.")
    var size: Int = 64

    @Option(name: .long, help: "Spread source addresses over 127.0.0.2 ... 127.0.0.(1+N) (IPv4 targets; 0 = let the kernel choose).")
    var sources: Int = 0

    @Option(name: .long, help: "Warm-up seconds before the measured --duration.")
    var warmup: Double = 1

    func validate() throws {
        guard (1...10_000).contains(self.concurrency) else {
            throw ValidationError("--concurrency must be 1-10000, got \(self.concurrency)")
        }
        guard self.count >= 0 else { throw ValidationError("--count must not be negative, got \(self.count)") }
        guard (1...65536).contains(self.size) else { throw ValidationError("--size must be 1-65536, got \(self.size)") }
        guard (0...250).contains(self.sources) else { throw ValidationError("--sources must be 0-250, got \(self.sources)") }
        guard self.warmup >= 0, self.warmup <= 60 else {
            throw ValidationError("--warmup must be 0-60 seconds, got \(self.warmup)")
        }
    }

    struct Report: BenchReport, Encodable {
        var mode = "connect"
        var target: String
        var concurrency: Int
        var durationSeconds: Double
        var connections: UInt64
        var connectionsPerSecond: Double
        var failures: UInt64
        var connect: LatencySummary
        var firstEcho: LatencySummary
        var firstError: String?

        var title: String { "connect against \(self.target)" }
        var rows: [(String, String)] {
            var rows = [
                ("concurrency", "\(self.concurrency)"),
                ("measured", "\(self.durationSeconds) s"),
                ("connections", "\(self.connections)"),
                ("connections/s", "\(Int(self.connectionsPerSecond.rounded()))"),
                ("connect p50/p99/p99.9/max", self.connect.cell),
                ("first echo p50/p99/p99.9/max", self.firstEcho.cell),
                ("failures", "\(self.failures)"),
            ]
            if let firstError = self.firstError {
                rows.append(("first error", firstError))
            }
            return rows
        }
    }

    func run() async throws {
        OpenFileLimit.raise()
        let target = try BenchTarget(parsing: self.common.target)
        guard self.sources == 0 || target.isIPv4 else {
            throw ValidationError("--sources needs an IPv4 loopback --target")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: self.common.threads)
        do {
            let report = try await self.measure(target: target, group: group)
            try? await group.shutdownGracefully()
            try report.emit(json: self.common.json)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func measure(target: BenchTarget, group: MultiThreadedEventLoopGroup) async throws -> Report {
        let shards = try await EventLoopShards<ConnectStats>.make(on: group) { ConnectStats() }
        let now = BenchClock.now()
        let measureFrom = now + UInt64(self.warmup * 1e9)
        let stopAt = measureFrom + self.common.durationNanos
        let budget = self.count > 0 ? (self.count + self.concurrency - 1) / self.concurrency : Int.max
        var done: [EventLoopFuture<Void>] = []
        for index in 0..<self.concurrency {
            let loop = shards.loop(for: index)
            let stats = shards.stats(for: index)
            let promise = loop.makePromise(of: Void.self)
            done.append(promise.futureResult)
            let source = self.sources > 0 ? try SocketAddress(ipAddress: "127.0.0.\(2 + index % self.sources)", port: 0) : nil
            let size = self.size
            loop.execute {
                ConnectWorker(
                    loop: loop,
                    target: target.address,
                    source: source,
                    size: size,
                    measureFrom: measureFrom,
                    stopAt: stopAt,
                    budget: budget,
                    stats: stats.value,
                    done: promise
                ).next()
            }
        }
        for future in done {
            try await future.get()
        }
        let measuredNanos = min(BenchClock.now(), stopAt) - min(measureFrom, BenchClock.now())
        let measuredSeconds = max(Double(measuredNanos) / 1e9, 1e-9)

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
