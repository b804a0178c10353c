import ChatBenchCore
import NIOCore
import NIOPosix

/// Runs `connect` cycles back to back on one event loop until the stop time or its cycle budget.
final class ConnectWorker {
    private let loop: any EventLoop
    private let target: SocketAddress
    private let source: SocketAddress?
    private let size: Int
    private let window: MeasuredWindow
    private var budget: Int
    private let stats: ConnectStats
    private let done: EventLoopPromise<Void>

    init(
        loop: any EventLoop,
        target: SocketAddress,
        source: SocketAddress?,
        size: Int,
        window: MeasuredWindow,
        budget: Int,
        stats: ConnectStats,
        done: EventLoopPromise<Void>
    ) {
        self.loop = loop
        self.target = target
        self.source = source
        self.size = size
        self.window = window
        self.budget = budget
        self.stats = stats
        self.done = done
    }

    /// Starts the next cycle, or finishes; call on `loop`.
    func next() {
        let startedAt = BenchClock.now()
        guard startedAt < self.window.stopAt, self.budget > 0 else {
            self.done.succeed()
            return
        }
        self.budget -= 1
        let stats = NIOLoopBound(self.stats, eventLoop: self.loop)
        let size = self.size
        let measureFrom = self.window.measureFrom
        var bootstrap = ClientBootstrap(group: self.loop)
            .connectTimeout(.seconds(5))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ConnectProbeHandler(startedAt: startedAt, size: size, measureFrom: measureFrom, stats: stats.value)
                    )
                }
            }
        if let source = self.source {
            bootstrap = bootstrap.bind(to: source)
        }
        bootstrap.connect(to: self.target).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                // A target that never echoes must not stall the worker past the run.
                let timeout = channel.eventLoop.assumeIsolated().scheduleTask(in: .seconds(5)) {
                    channel.close(promise: nil)
                }
                channel.closeFuture.assumeIsolated().whenComplete { _ in
                    timeout.cancel()
                    self.next()
                }
            case .failure(let error):
                self.stats.failures += 1
                if self.stats.firstError == nil {
                    self.stats.firstError = "\(error)"
                }
                // Back off briefly so a refused target does not turn into a busy loop.
                self.loop.assumeIsolated().scheduleTask(in: .milliseconds(10)) {
                    self.next()
                }
            }
        }
    }
}
