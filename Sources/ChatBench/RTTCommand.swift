import ArgumentParser
import ChatBenchCore
import Histogram
import NIOCore
import NIOPosix
import SystemLimits

/// `chat-bench rtt`: round-trip latency and messages/s over C concurrent connections.
struct RTTCommand: BenchMode {
    static let mode = "rtt"
    static let abstract = "C connections send M-byte messages and await the echo; messages/s and round-trip percentiles."

    @OptionGroup var common: CommonOptions

    @Option(name: .shortAndLong, help: "Concurrent connections.")
    var connections: Int = 50

    @OptionGroup var size: MessageSizeOption

    @Option(name: .long, help: "Total messages per second over all connections; 0 = flat out, one message in flight per connection.")
    var rate: Double = 0

    @Option(name: .long, help: "Stop after this many messages in total (0 = only --duration bounds the run).")
    var messages: Int = 0

    @OptionGroup var warmup: WarmupOption

    func validate() throws {
        try requireOption("--connections", self.connections, in: 1...50_000)
        try requireOption("--rate", self.rate, in: 0...10_000_000, unit: " messages/s (0 = flat out)")
        try requireOption("--messages", self.messages, in: 0...)
    }

    struct Report: BenchReport, Encodable {
        var mode = RTTCommand.mode
        var target: String
        var connections: Int
        var connectFailures: Int
        var size: Int
        var rate: Double
        var durationSeconds: Double
        var messages: UInt64
        var messagesPerSecond: Double
        var lost: UInt64
        var connectionErrors: UInt64
        var rtt: LatencySummary
        var firstError: String?

        var firstErrorLabel: String { "first connect error" }
        var figures: [(String, String)] {
            [
                ("connections", "\(self.connections) (\(self.connectFailures) failed to connect)"),
                ("message size", "\(self.size) B"),
                ("offered rate", self.rate > 0 ? "\(Int(self.rate)) msg/s" : "flat out (1 in flight per connection)"),
                ("measured", "\(self.durationSeconds) s"),
                ("messages", "\(self.messages)"),
                ("messages/s", "\(Int(self.messagesPerSecond.rounded()))"),
                ("rtt p50/p99/p99.9/max", self.rtt.cell),
                ("lost / conn errors", "\(self.lost) / \(self.connectionErrors)"),
            ]
        }
    }

    func measure(target: BenchTarget, group: MultiThreadedEventLoopGroup, openFilesLimit _: UInt64) async throws -> Report {
        let shards = try await EventLoopShards<RTTStats>.make(on: group) { RTTStats() }
        let connections = self.connections
        let size = self.size.size
        let perConnectionRate = self.rate / Double(connections)
        let interval: UInt64 = self.rate > 0 ? UInt64(1e9 / perConnectionRate) : 0
        let perConnectionCap = share(ofTotal: self.messages, over: connections)

        var finishedFutures: [EventLoopFuture<Void>] = []
        var promises: [EventLoopPromise<Void>] = []
        for index in 0..<connections {
            let promise = shards.loop(for: index).makePromise(of: Void.self)
            promises.append(promise)
            finishedFutures.append(promise.futureResult)
        }
        let promisesForConnect = promises
        let outcome = await ConnectionOpener.open(count: connections, concurrency: 256) { index in
            let stats = shards.stats(for: index)
            let finished = promisesForConnect[index]
            let offset = interval == 0 ? 0 : interval / UInt64(connections) * UInt64(index)
            return ClientBootstrap(group: shards.loop(for: index))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            RTTHandler(
                                size: size,
                                interval: interval,
                                firstOffset: offset,
                                maxMessages: perConnectionCap,
                                stats: stats.value,
                                finished: finished
                            )
                        )
                    }
                }
                .connect(to: target.address)
                .failing(finished)
        }

        // Sending begins 50 ms from now, so every connection starts together.
        let begin = BenchClock.now() + 50_000_000
        let start = MeasuredWindow(startingAt: begin, warmup: self.warmup.warmup, durationNanos: self.common.durationNanos)
        for channel in outcome.channels {
            channel.pipeline.fireUserInboundEventTriggered(start)
        }
        for future in finishedFutures {
            _ = try? await future.get()
        }
        // A --messages cap can end the run before --duration.
        let measuredSeconds = start.elapsedSeconds

        let parts = try await shards.collect { stats in
            (stats.histogram, stats.completed, stats.lost, stats.connectionErrors)
        }
        var histogram = LatencySummary.makeHistogram()
        var completed: UInt64 = 0
        var lost: UInt64 = 0
        var errors: UInt64 = 0
        for part in parts {
            histogram.add(part.0)
            completed += part.1
            lost += part.2
            errors += part.3
        }
        return Report(
            target: target.description,
            connections: connections,
            connectFailures: outcome.failures,
            size: size,
            rate: self.rate,
            durationSeconds: (measuredSeconds * 1000).rounded() / 1000,
            messages: completed,
            messagesPerSecond: Double(completed) / measuredSeconds,
            lost: lost,
            connectionErrors: errors,
            rtt: LatencySummary(histogram),
            firstError: outcome.firstError
        )
    }
}
