import Foundation

#if canImport(Glibc)
import Glibc
import TestSupport
#endif

/// The built `server-agent` binary, run as a real process with its log captured to a file.
final class AgentProcess: @unchecked Sendable {
    // @unchecked: `Process` is not Sendable; it is only started in init and then queried
    // (isRunning, terminationStatus, processIdentifier), which Foundation makes thread-safe.
    let process = Process()
    let logURL: URL
    private let logHandle: FileHandle

    /// Runs `server-agent arguments...`; `environment` adds to the inherited one.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("server-agent-tests", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        logURL = directory.appendingPathComponent("agent-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        logHandle = try FileHandle(forWritingTo: logURL)
        process.executableURL = try Self.binary()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? logHandle.close()
    }

    var pid: pid_t { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits (bounded) for the process to exit; returns its exit status, or nil on timeout.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    var log: String {
        (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    /// The built `server-agent` (see `BuiltBinary`).
    static func binary() throws -> URL {
        try BuiltBinary.url("server-agent")
    }
}

