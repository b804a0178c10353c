import CoreMetrics
import Foundation
import Logging
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import Balancer
@testable import ProxyEngine

/// The session logs' writer thread: it sleeps until a worker queues something (no polling), and
/// writes the listeners' error-log messages in nginx's words.
@Suite("Session log writer", .timeLimit(.minutes(1)))
struct SessionLogWriterTests {
    /// Every sleep's timeout, as the writer reports it before it sleeps.
    final class Sleeps: Sendable {
        let timeouts = NIOLockedValueBox<[Int32]>([])
        var hook: @Sendable (Int32) -> Void { { timeout in self.timeouts.withLockedValue { $0.append(timeout) } } }
        var count: Int { self.timeouts.withLockedValue { $0.count } }
        var last: Int32? { self.timeouts.withLockedValue { $0.last } }
    }

    /// A writer for one worker that reports its sleeps to `sleeps`, and a fresh folder for its
    /// files: the writer is stopped, then the folder removed, after `body`.
    static func with(_ body: (AccessLogWriter, Sleeps, _ dir: String) async throws -> Void) async throws {
        try await TestScene.with { scene in
            let dir = try scene.folder("muster-session-log")
            let sleeps = Sleeps()
            let writer = AccessLogWriter(
                workers: 1, metricsFactory: NOOPMetricsHandler.instance, logger: Logger(label: "test"), sleepHook: sleeps.hook)
            scene.onExit { await writer.stop() }
            try await body(writer, sleeps, dir)
        }
    }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    @Test("an idle writer sleeps with no deadline; a record queued while it sleeps wakes it and reaches the file; then it sleeps again")
    func wakesForRecord() async throws {
        try await Self.with { writer, sleeps, dir in
            let path = "\(dir)/log"
            let format = LogFormat(name: "s", template: try StreamTemplate(compiling: "$status $connection"))
            let log = try #require(try writer.sessionLog(for: [AccessLogConfiguration(path: path, format: format)], upstream: "u"))
            #expect(await waitUntil { sleeps.last == -1 })
            let asleep = sleeps.count
            var record = SessionRecord()
            record.serial = 7
            log.push(record, worker: 0)
            #expect(await waitUntil { Self.read(path) == "200 7\n" })
            #expect(await waitUntil { sleeps.count > asleep && sleeps.last == -1 })
        }
    }

    @Test("a buffered line with flush=: the writer sleeps until its deadline, no longer")
    func sleepsUntilFlush() async throws {
        try await Self.with { writer, sleeps, dir in
            let path = "\(dir)/log"
            let format = LogFormat(name: "s", template: try StreamTemplate(compiling: "$status"))
            let configuration = AccessLogConfiguration(path: path, format: format, bufferSize: 4096, flush: .seconds(60))
            let log = try #require(try writer.sessionLog(for: [configuration], upstream: "u"))
            #expect(await waitUntil { sleeps.last == -1 })
            log.push(SessionRecord(), worker: 0)
            #expect(await waitUntil { (sleeps.last ?? -1) > 0 })
            #expect((sleeps.last ?? 0) <= 60_000)
            // Nothing written before the deadline; stop writes what is buffered.
            #expect(Self.read(path) == "")
            await writer.stop()
            #expect(Self.read(path) == "200\n")
        }
    }

    @Test("a listener's error-log messages: each line in every log that takes its level, in nginx's words")
    func errorMessages() async throws {
        try await Self.with { writer, _, dir in
            let info = "\(dir)/log"
            let errors = info + ".error"
            let message = SessionMessage(listen: "127.0.0.1:8080", upstream: "u", zones: [])
            let log = try #require(
                try writer.errorLog(
                    for: [
                        ErrorLogConfiguration(destination: .file(info), level: .info), ErrorLogConfiguration(destination: .file(errors), level: .error),
                    ], message: message))
            #expect(log.level == .info)
            var connected = SessionEvent(kind: .clientConnected, level: .info)
            connected.serial = 1
            connected.client = RecordAddress(family: .inet, port: 5000, bytes: [127, 0, 0, 1])
            var failed = SessionEvent(kind: .noLiveUpstreams, level: .error)
            failed.serial = 1
            failed.client = connected.client
            log.push(connected, worker: 0)
            log.push(failed, worker: 0)
            let noLive = "*1 no live upstreams while connecting to upstream, client: 127.0.0.1, server: 127.0.0.1:8080, upstream: \"u\", bytes from/to client:0/0, bytes from/to upstream:0/0\n"
            #expect(await waitUntil { Self.read(info).hasSuffix("[error] \(getpid())#0: \(noLive)") })
            #expect(Self.read(info).contains("[info] \(getpid())#0: *1 client 127.0.0.1:5000 connected to 127.0.0.1:8080\n"))
            #expect(Self.read(errors).hasSuffix(noLive))
            #expect(!Self.read(errors).contains("[info]"))
        }
    }
}
