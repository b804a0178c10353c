import ArgumentParser
import ChatBenchCore
import NIOCore
import NIOPosix
import SystemLimits

/// `chat-bench hold`: N idle connections, and the resident memory they cost the process named by `--pid`.
struct HoldCommand: BenchMode, SourceSpreadDefault {
    static let mode = "hold"
    static let abstract = "Open N idle connections (source addresses spread over 127.0.0.x) and report RSS per connection of --pid."

    @OptionGroup var common: CommonOptions

    @Option(name: .shortAndLong, help: "Idle connections to open.")
    var connections: Int = 1000

    @OptionGroup var sources: SourceSpreadOption<Self>

    /// Hold's default spread: 16 addresses, room for about 450,000 connections to one target.
    static let defaultSources = 16

    @Option(name: .long, help: "Connections being opened at once.")
    var concurrency: Int = 256

    @Option(name: .long, parsing: .singleValue, help: "Process whose VmRSS to measure (the proxy); repeat for multi-process proxies (nginx workers).")
    var pid: [Int32] = []

    @Option(name: .long, help: "Seconds to wait after the last connection before reading RSS.")
    var settle: Double = 1

    func validate() throws {
        try requireOption("--connections", self.connections, in: 1...1_000_000)
        try requireOption("--concurrency", self.concurrency, in: 1...10_000)
        try requireOption("--settle", self.settle, in: 0...60, unit: " s")
        for pid in self.pid where ProcessMemory.residentBytes(pid: pid) == nil {
            throw ValidationError("--pid \(pid): cannot read VmRSS from /proc/\(pid)/status (no such process?)")
        }
    }

    struct Report: BenchReport, Encodable {
        var mode = HoldCommand.mode
        var target: String
        var requested: Int
        var established: Int
        var failed: Int
        var stillOpenAtEnd: Int
        var secondsToEstablish: Double
        var heldSeconds: Double
        var sourceAddresses: Int
        var openFilesLimit: UInt64
        var pids: [Int32]
        var rssBeforeBytes: UInt64?
        var rssAfterBytes: UInt64?
        var rssPerConnectionBytes: Double?
        var firstError: String?

        var figures: [(String, String)] {
            var rows = [
                ("connections", "\(self.established) of \(self.requested) established, \(self.failed) failed"),
                ("open after hold", "\(self.stillOpenAtEnd) (held \(self.heldSeconds) s)"),
                ("time to establish", "\(self.secondsToEstablish) s"),
                ("source addresses", self.sourceAddresses == 0 ? "kernel's choice" : "127.0.0.2 .. 127.0.0.\(1 + self.sourceAddresses)"),
                ("bench open-files limit", "\(self.openFilesLimit)"),
            ]
            if let before = self.rssBeforeBytes, let after = self.rssAfterBytes {
                rows.append(("rss of pid \(self.pids.map(String.init).joined(separator: "+"))", "\(before / 1024) KiB -> \(after / 1024) KiB"))
                rows.append(("rss per connection", self.rssPerConnectionBytes.map { "\(Int($0.rounded())) B" } ?? "n/a"))
            }
            return rows
        }
    }

    func measure(target: BenchTarget, group: MultiThreadedEventLoopGroup, openFilesLimit: UInt64) async throws -> Report {
        try self.sources.check(for: target)
        let loops = Array(group.makeIterator())
        let sources = self.sources
        let pids = self.pid
        let rssBefore = pids.isEmpty ? nil : ProcessMemory.residentBytes(pids: pids)
        let startedAt = BenchClock.now()
        let deadline = startedAt + self.common.durationNanos

        let outcome = await ConnectionOpener.open(count: self.connections, concurrency: self.concurrency) { index in
            let loop = loops[index % loops.count]
            guard BenchClock.now() < deadline else {
                return loop.makeFailedFuture(HoldError.outOfTime)
            }
            let probe = loop.makePromise(of: Void.self)
            var bootstrap = ClientBootstrap(group: loop)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HoldHandler(probe: probe))
                    }
                }
            if let source = sources.address(for: index) {
                bootstrap = bootstrap.bind(to: source)
            }
            return bootstrap.connect(to: target.address)
                .flatMapError { error in
                    probe.fail(error)
                    return loop.makeFailedFuture(error)
                }
                .flatMap { channel in
                    let timeout = loop.scheduleTask(in: .seconds(10)) { probe.fail(HoldError.probeTimedOut) }
                    return probe.futureResult.map { _ in
                        timeout.cancel()
                        return channel
                    }.flatMapError { error in
                        timeout.cancel()
                        channel.close(promise: nil)
                        return loop.makeFailedFuture(error)
                    }
                }
        }
        let establishedAt = BenchClock.now()
        if self.settle > 0 {
            try await Task.sleep(for: .milliseconds(Int(self.settle * 1000)))
        }
        let rssAfter = pids.isEmpty ? nil : ProcessMemory.residentBytes(pids: pids)
        // Hold the connections open for the rest of --duration, to see whether any are dropped.
        let now = BenchClock.now()
        if now < deadline {
            try await Task.sleep(for: .nanoseconds(Int(deadline - now)))
        }
        let heldSeconds = Double(BenchClock.now() - establishedAt) / 1e9
        let stillOpen = outcome.channels.filter(\.isActive).count
        for channel in outcome.channels {
            channel.close(promise: nil)
        }
        for channel in outcome.channels {
            try? await channel.closeFuture.get()
        }

        var perConnection: Double?
        if let before = rssBefore, let after = rssAfter, !outcome.channels.isEmpty {
            perConnection = (Double(after) - Double(before)) / Double(outcome.channels.count)
        }
        return Report(
            target: target.description,
            requested: self.connections,
            established: outcome.channels.count,
            failed: outcome.failures,
            stillOpenAtEnd: stillOpen,
            secondsToEstablish: (Double(establishedAt - startedAt) / 1e6).rounded() / 1000,
            heldSeconds: (heldSeconds * 1000).rounded() / 1000,
            sourceAddresses: sources.sources,
            openFilesLimit: openFilesLimit,
            pids: pids,
            rssBeforeBytes: rssBefore,
            rssAfterBytes: rssAfter,
            rssPerConnectionBytes: perConnection,
            firstError: outcome.firstError
        )
    }
}
