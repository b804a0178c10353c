import Foundation
import Logging
import Metrics
import MusterBase
import NIOConcurrencyHelpers
import ProxyEngine

#if canImport(Glibc)
import Glibc
#endif

/// The session logs' writer, off the data path: one thread that takes the workers' session records
/// from their `SessionLog` queues and their error-log messages from their `SessionErrorLog` queues,
/// formats them and appends them to the access logs (buffered as `buffer=` and `flush=` say) and
/// the listeners' error logs. Files are opened with `O_APPEND` when a listener first names them,
/// reopened by `reopen()` (SIGUSR1, for logrotate) and flushed and closed by `stop()`.
///
/// The thread sleeps until a worker queues something, a `flush=` deadline, a reopen or the stop
/// (``LogWakeup``: a worker makes a system call only when it finds the writer asleep). A queue
/// whose listener is gone (replaced on reload, its last connection closed) is drained one last
/// time and forgotten, and so is a file no queue writes to any more.
public final class AccessLogWriter: Sendable {
    /// How long the writer sleeps when it has no eventfd to wait on (it could not make one).
    static let fallbackInterval: Int32 = 50

    private struct Output {
        var configuration: AccessLogConfiguration
        var file: LogFile
    }

    private struct Source {
        var log: SessionLog
        var outputs: [Output]
        /// The listener's upstream group, for `$upstream_addr` when no member was live.
        var upstreamName: [UInt8]
        /// Dropped records already added to the metric.
        var publishedDrops = 0
    }

    /// A listener's error-log queue, its message texts and its destinations.
    private struct ErrorSource {
        var log: SessionErrorLog
        var message: SessionMessage
        var outputs: [(file: ErrorLogFile, level: LogLevel)]
    }

    private struct State {
        var sources: [Source] = []
        var files: [String: LogFile] = [:]
        var errorSources: [ErrorSource] = []
        var errorFiles: [ErrorLogConfiguration.Destination: ErrorLogFile] = [:]
        var reopenRequested = false
        var stopping = false
        var started = false
        var stopped: [CheckedContinuation<Void, Never>] = []
        var finished = false
    }

    private let workers: Int
    private let state = NIOLockedValueBox(State())
    private let dropped: Metrics.Counter
    private let logger: Logger
    /// nil only if no eventfd could be made: the writer then looks every `fallbackInterval` ms.
    private let wakeup: LogWakeup?
    /// Called with each sleep's timeout in ms (-1: until woken) before the writer sleeps; for tests.
    private let sleepHook: (@Sendable (Int32) -> Void)?

    public init(workers: Int, metricsFactory: any MetricsFactory, logger: Logger, sleepHook: (@Sendable (Int32) -> Void)? = nil) {
        self.workers = workers
        self.dropped = Metrics.Counter(label: "balancer_access_log_dropped_total", factory: metricsFactory)
        self.logger = logger
        self.sleepHook = sleepHook
        do {
            self.wakeup = try LogWakeup()
        } catch {
            self.wakeup = nil
            logger.warning("log writer has no eventfd; it looks for lines every 50 ms", metadata: [LogKey.error: "\(error)"])
        }
    }

    /// The queue for a listener with `logs` (nil for none) that passes to the group `upstream`,
    /// its files opened (created) now: a file that cannot be opened fails the start or reload,
    /// naming it, as in nginx.
    public func sessionLog(for logs: [AccessLogConfiguration], upstream: String) throws(AccessLogError) -> SessionLog? {
        guard !logs.isEmpty else { return nil }
        let needsServer = logs.contains { $0.variables.contains { $0.needsServerAddress } }
        let log = SessionLog(workers: self.workers, needsServerAddress: needsServer, wakeup: self.wakeup)
        try self.state.withLockedValue { state -> Result<Void, AccessLogError> in
            var outputs: [Output] = []
            for configuration in logs {
                let file: LogFile
                if let open = state.files[configuration.path] {
                    file = open
                } else {
                    do throws(AccessLogError) {
                        file = try LogFile(path: configuration.path)
                    } catch {
                        return .failure(error)
                    }
                    state.files[configuration.path] = file
                }
                file.adopt(bufferSize: configuration.bufferSize, flush: configuration.flush)
                outputs.append(Output(configuration: configuration, file: file))
            }
            state.sources.append(Source(log: log, outputs: outputs, upstreamName: Array(upstream.utf8)))
            return .success(())
        }.get()
        self.startOrWake()
        return log
    }

    /// The error-log queue for a listener whose messages go to `logs` (nil for none), its files
    /// opened (created) now, as `sessionLog(for:)` does.
    func errorLog(for logs: [ErrorLogConfiguration], message: SessionMessage) throws(ErrorLogError) -> SessionErrorLog? {
        guard let lowest = logs.map(\.level).min() else { return nil }
        let log = SessionErrorLog(workers: self.workers, level: lowest, wakeup: self.wakeup)
        try self.state.withLockedValue { state -> Result<Void, ErrorLogError> in
            var outputs: [(file: ErrorLogFile, level: LogLevel)] = []
            for configuration in logs {
                if let open = state.errorFiles[configuration.destination] {
                    outputs.append((open, configuration.level))
                    continue
                }
                do throws(ErrorLogError) {
                    let file = try ErrorLogFile(configuration.destination)
                    state.errorFiles[configuration.destination] = file
                    outputs.append((file, configuration.level))
                } catch {
                    return .failure(error)
                }
            }
            state.errorSources.append(ErrorSource(log: log, message: message, outputs: outputs))
            return .success(())
        }.get()
        self.startOrWake()
        return log
    }

    /// Starts the thread with the first queue; later ones wake it, so it forgets what is gone.
    private func startOrWake() {
        let start = self.state.withLockedValue { state in
            defer { state.started = true }
            return !state.started && !state.stopping
        }
        if start {
            let thread = Thread { [self] in self.run() }
            thread.name = "session-logs"
            thread.start()
        } else {
            self.wakeup?.signal()
        }
    }

    /// Reopens every log file (after logrotate renamed them); done by the writer thread at once,
    /// after what is buffered went to the old file.
    public func reopen() {
        self.state.withLockedValue { $0.reopenRequested = true }
        self.wakeup?.signal()
    }

    /// Writes what is queued and buffered, closes the files and ends the thread. Call after the
    /// engine closed its connections, so their records are written too.
    public func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = self.state.withLockedValue { state -> Bool in
                state.stopping = true
                if state.finished || !state.started {
                    state.finished = true
                    return true
                }
                state.stopped.append(continuation)
                return false
            }
            self.wakeup?.signal()
            if done {
                self.finish()
                continuation.resume()
            }
        }
    }

    private func run() {
        while true {
            let stopping = self.state.withLockedValue { $0.stopping }
            self.cycle(now: cpe_now())
            if stopping { break }
            self.waitForWork()
        }
        self.finish()
        let waiters = self.state.withLockedValue { state in
            state.finished = true
            defer { state.stopped = [] }
            return state.stopped
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Sleeps until a worker queues something, a signal (reopen, stop, a new queue) or the next
    /// `flush=` deadline. The announcement comes before the last look at the queues, so a record
    /// queued after that look finds the announcement and signals (``LogWakeup``).
    private func waitForWork() {
        guard let wakeup = self.wakeup else {
            self.sleepHook?(Self.fallbackInterval)
            _ = poll(nil, 0, Self.fallbackInterval)
            return
        }
        wakeup.announceSleep()
        let timeout = self.state.withLockedValue { state -> Int32? in
            if state.stopping || state.reopenRequested || state.sources.contains(where: { !$0.log.isEmpty })
                || state.errorSources.contains(where: { !$0.log.isEmpty })
            {
                return nil
            }
            let now = cpe_now()
            let due = state.files.values.compactMap { $0.due() }.min()
            return due.map { Int32(clamping: max(0, $0 - now)) } ?? -1
        }
        if let timeout {
            self.sleepHook?(timeout)
            var descriptor = pollfd(fd: wakeup.eventFD, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, timeout)
        }
        wakeup.awake()
    }

    /// One pass: drains every queue into its files, writes what is due, reopens if asked, and
    /// forgets queues and files nobody uses any more.
    func cycle(now: Int64) {
        let host = SessionValues.Host.current()
        var drops = 0
        self.state.withLockedValue { state in
            Self.writeErrors(&state, pid: host.pid)
            var line: [UInt8] = []
            for index in state.sources.indices {
                let outputs = state.sources[index].outputs
                let upstreamName = state.sources[index].upstreamName
                state.sources[index].log.drain { record in
                    let values = SessionValues(record: copy record, host: host, upstreamName: upstreamName)
                    for output in outputs where output.configuration.accepts(values) {
                        line.removeAll(keepingCapacity: true)
                        output.configuration.format.line(values, into: &line)
                        output.file.append(line, now: now)
                    }
                }
                let total = state.sources[index].log.dropped
                drops += total - state.sources[index].publishedDrops
                state.sources[index].publishedDrops = total
            }
            let reopen = state.reopenRequested
            state.reopenRequested = false
            for file in state.files.values {
                file.writeIfDue(now: now, logger: self.logger)
                if reopen {
                    file.reopen(logger: self.logger)
                }
            }
            // Only the writer holds a queue whose routes are gone: nothing can push to it any more.
            for index in state.sources.indices.reversed() where isKnownUniquelyReferenced(&state.sources[index].log) {
                state.sources.remove(at: index)
            }
            let used = Set(state.sources.flatMap { $0.outputs.map(\.configuration.path) })
            for (path, file) in state.files where !used.contains(path) {
                file.close(logger: self.logger)
                state.files[path] = nil
            }
            if reopen {
                for file in state.errorFiles.values {
                    if let error = file.reopen() {
                        self.logger.error("error log reopen failed; writing to the old file", metadata: [LogKey.error: "\(error)"])
                    }
                }
            }
            for index in state.errorSources.indices.reversed() where isKnownUniquelyReferenced(&state.errorSources[index].log) {
                state.errorSources.remove(at: index)
            }
            let destinations = Set(state.errorSources.flatMap { $0.outputs.map(\.file.destination) })
            state.errorFiles = state.errorFiles.filter { destinations.contains($0.key) }
        }
        if drops > 0 {
            self.dropped.increment(by: drops)
        }
    }

    /// Each waiting message as a line in every error log of its listener that takes its level.
    private static func writeErrors(_ state: inout State, pid: Int32) {
        let now = time(nil)
        for source in state.errorSources {
            source.log.drain { event in
                let level = Logger.Level(event.level)
                let line = Array((ErrorLogHandler.prefix(level: level, time: now, pid: pid) + source.message.text(event) + "\n").utf8)
                for output in source.outputs where event.level >= output.level {
                    output.file.write(line, level: level)
                }
            }
        }
    }

    private func finish() {
        self.state.withLockedValue { state in
            Self.writeErrors(&state, pid: getpid())
            state.errorSources = []
            state.errorFiles = [:]
            for file in state.files.values {
                file.close(logger: self.logger)
            }
            state.files = [:]
            state.sources = []
        }
    }
}

private func cpe_now() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

extension AccessLogWriter: LogReopening {
    public func reopenLogs() {
        self.reopen()
    }
}

/// A log file that cannot be opened.
public struct AccessLogError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String { "cannot open access log \"\(UntrustedText.escaped(self.path, limit: 200))\": \(self.reason)" }
}

/// One open log file and its buffer; used by the writer thread only (and under its lock).
final class LogFile: @unchecked Sendable {
    // @unchecked Sendable: every use is inside AccessLogWriter's state lock.
    let path: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var bufferSize = 0
    private var flush: Int64?
    /// When the oldest buffered line came (monotonic ms).
    private var pendingSince: Int64 = 0

    init(path: String) throws(AccessLogError) {
        self.path = path
        self.fd = -1
        self.fd = try Self.open(path)
    }

    private static func open(_ path: String) throws(AccessLogError) -> Int32 {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw AccessLogError(path: path, reason: String(cString: strerror(errno)))
        }
        return fd
    }

    /// Several `access_log`s on one file share its buffer: the largest `buffer=`, the shortest `flush=`.
    func adopt(bufferSize: Int, flush: Duration?) {
        self.bufferSize = max(self.bufferSize, bufferSize)
        if let flush {
            let milliseconds = max(1, Int64(flush.components.seconds) * 1000 + flush.components.attoseconds / 1_000_000_000_000_000)
            self.flush = min(self.flush ?? milliseconds, milliseconds)
        }
        self.buffer.reserveCapacity(self.bufferSize)
    }

    func append(_ line: [UInt8], now: Int64) {
        if self.bufferSize > 0 && self.buffer.count + line.count > self.bufferSize {
            self.write()
        }
        if self.buffer.isEmpty {
            self.pendingSince = now
        }
        self.buffer.append(contentsOf: line)
    }

    /// When the buffer is due by `flush=` (monotonic ms), nil when nothing waits for a deadline.
    func due() -> Int64? {
        guard !self.buffer.isEmpty, let flush = self.flush else { return nil }
        return self.pendingSince + flush
    }

    /// Unbuffered: everything now. Buffered: when full (done in `append`) or `flush=` old.
    func writeIfDue(now: Int64, logger: Logger) {
        guard !self.buffer.isEmpty else { return }
        if self.bufferSize == 0 || self.buffer.count >= self.bufferSize
            || (self.flush.map { now - self.pendingSince >= $0 } ?? false)
        {
            self.write(logger: logger)
        }
    }

    private func write(logger: Logger? = nil) {
        guard self.fd >= 0, !self.buffer.isEmpty else {
            self.buffer.removeAll(keepingCapacity: true)
            return
        }
        let count = self.buffer.count
        let written = self.buffer.withUnsafeBytes { Glibc.write(self.fd, $0.baseAddress, count) }
        if written != count {
            let reason = written < 0 ? String(cString: strerror(errno)) : "incomplete: \(written) of \(count) bytes"
            logger?.error("access log write failed", metadata: [LogKey.accessLogFile: "\(self.path)", LogKey.error: "\(reason)"])
        }
        self.buffer.removeAll(keepingCapacity: true)
    }

    /// Writes the buffer to the old file, then opens the path again (a new file after a rename).
    func reopen(logger: Logger) {
        self.write(logger: logger)
        do {
            let fd = try Self.open(self.path)
            if self.fd >= 0 { Glibc.close(self.fd) }
            self.fd = fd
        } catch {
            logger.error("access log reopen failed; writing to the old file", metadata: [LogKey.accessLogFile: "\(self.path)", LogKey.error: "\(error.reason)"])
        }
    }

    func close(logger: Logger) {
        self.write(logger: logger)
        if self.fd >= 0 {
            Glibc.close(self.fd)
            self.fd = -1
        }
    }
}
