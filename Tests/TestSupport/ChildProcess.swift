import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An executable (one of this package's, see ``BuiltBinary``, or a script) run as a child process,
/// its standard output and error each in a file; killed by its pid when dropped. Every wait is
/// the poller's, so no test blocks a thread of the cooperative pool on a process.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked Sendable: `Process` is started in init and then only queried or signalled by pid,
    // which Foundation makes thread-safe.
    public let process = Process()
    private let outputURL: URL
    private let errorURL: URL

    /// Runs the built executable `name` with `arguments`; `environment` adds to the inherited one.
    public convenience init(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        try self.init(executable: BuiltBinary.url(name), arguments, environment: environment)
    }

    public init(executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("muster-test-processes", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let stem = "\(executable.lastPathComponent)-\(UUID().uuidString)"
        self.outputURL = directory.appendingPathComponent("\(stem).out")
        self.errorURL = directory.appendingPathComponent("\(stem).err")
        _ = FileManager.default.createFile(atPath: self.outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: self.errorURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: self.outputURL)
        let error = try FileHandle(forWritingTo: self.errorURL)
        defer {
            try? output.close()
            try? error.close()
        }
        self.process.executableURL = executable
        self.process.arguments = arguments
        self.process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        self.process.standardOutput = output
        self.process.standardError = error
        self.process.standardInput = FileHandle.nullDevice
        try self.process.run()
    }

    deinit {
        if self.process.isRunning {
            // A stopped process must be continued to die of SIGKILL promptly in every kernel.
            Glibc.kill(self.pid, SIGKILL)
            Glibc.kill(self.pid, SIGCONT)
            self.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: self.outputURL)
        try? FileManager.default.removeItem(at: self.errorURL)
    }

    public var pid: pid_t { self.process.processIdentifier }
    public var isRunning: Bool { self.process.isRunning }

    /// What the process wrote to standard output so far.
    public var output: String { (try? String(contentsOf: self.outputURL, encoding: .utf8)) ?? "" }
    /// What the process wrote to standard error so far (where the executables log).
    public var errorOutput: String { (try? String(contentsOf: self.errorURL, encoding: .utf8)) ?? "" }
    /// Both, for a failure message or a search: standard error, then standard output.
    public var log: String { self.errorOutput + self.output }

    /// How many times `text` occurs in standard error so far.
    public func count(_ text: String) -> Int {
        self.errorOutput.components(separatedBy: text).count - 1
    }

    public func signal(_ signal: Int32) {
        if self.process.isRunning { Glibc.kill(self.pid, signal) }
    }

    /// Waits (bounded) for the process to exit; its exit status, or nil if it still runs.
    public func waitForExit(timeout: Duration) async -> Int32? {
        await waitUntil(timeout: timeout) { !self.process.isRunning } ? self.process.terminationStatus : nil
    }

    /// Sends `signal`, then waits (bounded) for the process to exit; its exit status, or nil if it
    /// still runs.
    public func exitStatus(after signal: Int32, timeout: Duration = .seconds(10)) async -> Int32? {
        self.signal(signal)
        return await self.waitForExit(timeout: timeout)
    }

    /// SIGKILL, and the exit reaped.
    public func kill() {
        self.signal(SIGKILL)
        self.signal(SIGCONT)
        self.process.waitUntilExit()
    }

    /// What a process run to its end left.
    public struct Finished: Sendable {
        public var status: Int32
        public var output: String
        public var error: String
    }

    /// Runs the built executable `name` to its end (killed, and a thrown error, after `timeout`).
    public static func run(
        _ name: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)
    ) async throws -> Finished {
        try await run(executable: BuiltBinary.url(name), arguments, environment: environment, timeout: timeout)
    }

    /// Runs `executable` to its end (killed, and a thrown error, after `timeout`).
    public static func run(
        executable: URL, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)
    ) async throws -> Finished {
        let child = try ChildProcess(executable: executable, arguments, environment: environment)
        guard let status = await child.waitForExit(timeout: timeout) else {
            child.kill()
            throw TestSupportError("\(executable.lastPathComponent) \(arguments) did not finish within \(timeout):\n\(child.log)")
        }
        return Finished(status: status, output: child.output, error: child.errorOutput)
    }
}
