import ArgumentParser
import ChatBenchCore
import NIOCore
import NIOPosix
import SystemLimits

/// `chat-bench bulk`: echo throughput through one and through several streams.
struct BulkCommand: BenchMode {
    static let mode = "bulk"
    static let abstract = "Stream data through the echo as fast as it goes; MB/s for each --streams count (each run lasts --duration)."

    @OptionGroup var common: CommonOptions

    @Option(name: .long, parsing: .singleValue, help: "Parallel streams; repeat to run several counts one after another (default: 1 and 4).")
    var streams: [Int] = []

    @Option(name: .long, help: "Bytes per write.")
    var chunk: Int = 65536

    @OptionGroup var warmup: WarmupOption

    func validate() throws {
        for count in self.streams {
            try requireOption("--streams", count, in: 1...1024)
        }
        try requireOption("--chunk", self.chunk, in: 1...16_777_216)
    }

    struct Run: Codable {
        var streams: Int
        var connectFailures: Int
        var seconds: Double
        var bytes: UInt64
        /// Echoed payload per second, 10^6 bytes per MB (the same bytes also went the other way).
        var megabytesPerSecond: Double
        var connectionErrors: UInt64
    }

    struct Report: BenchReport, Encodable {
        var mode = BulkCommand.mode
        var target: String
        var chunk: Int
        var runs: [Run]

        var title: String { "bulk against \(self.target) (echoed MB/s, 1 MB = 10^6 B)" }
        var figures: [(String, String)] {
            self.runs.map { run in
                (
                    "\(run.streams) stream\(run.streams == 1 ? "" : "s")",
                    "\((run.megabytesPerSecond * 10).rounded() / 10) MB/s over \(run.seconds) s"
                        + (run.connectFailures + Int(run.connectionErrors) > 0
                            ? " (\(run.connectFailures) connect failures, \(run.connectionErrors) dropped)" : "")
                )
            }
        }
    }

    func measure(target: BenchTarget, group: MultiThreadedEventLoopGroup, openFilesLimit _: UInt64) async throws -> Report {
        var runs: [Run] = []
        for streams in self.streams.isEmpty ? [1, 4] : self.streams {
            runs.append(try await self.measure(streams: streams, target: target, group: group))
        }
        return Report(target: target.description, chunk: self.chunk, runs: runs)
    }

    private func measure(streams: Int, target: BenchTarget, group: MultiThreadedEventLoopGroup) async throws -> Run {
        let shards = try await EventLoopShards<BulkStats>.make(on: group) { BulkStats() }
        var promises: [EventLoopPromise<Void>] = []
        for index in 0..<streams {
            promises.append(shards.loop(for: index).makePromise(of: Void.self))
        }
        let promisesForConnect = promises
        let chunk = self.chunk
        let outcome = await ConnectionOpener.open(count: streams, concurrency: 64) { index in
            let stats = shards.stats(for: index)
            let finished = promisesForConnect[index]
            return ClientBootstrap(group: shards.loop(for: index))
                .channelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            BulkHandler(chunkSize: chunk, stats: stats.value, finished: finished)
                        )
                    }
                }
                .connect(to: target.address)
                .failing(finished)
        }
        let start = MeasuredWindow(startingAt: BenchClock.now(), warmup: self.warmup.warmup, durationNanos: self.common.durationNanos)
        for channel in outcome.channels {
            channel.pipeline.fireUserInboundEventTriggered(start)
        }
        for promise in promises {
            _ = try? await promise.futureResult.get()
        }
        let parts = try await shards.collect { ($0.bytes, $0.connectionErrors) }
        let bytes = parts.reduce(0) { $0 + $1.0 }
        let errors = parts.reduce(0) { $0 + $1.1 }
        return Run(
            streams: streams,
            connectFailures: outcome.failures,
            seconds: self.common.duration,
            bytes: bytes,
            megabytesPerSecond: Double(bytes) / 1e6 / self.common.duration,
            connectionErrors: errors
        )
    }
}
