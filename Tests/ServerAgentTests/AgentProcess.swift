import Foundation

#if canImport(Glibc)
import Glibc
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

    /// Finds the `server-agent` built next to this test bundle (`swift test` builds all products).
    static func binary() throws -> URL {
        var candidates: [URL] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
            // Inside an .xctest bundle directory on some platforms.
            for _ in 0..<3 {
                candidates.append(directory.appendingPathComponent("server-agent"))
                directory = directory.deletingLastPathComponent()
            }
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/server-agent"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        throw BinaryNotFound(searched: candidates.map(\.path))
    }

    struct BinaryNotFound: Error, CustomStringConvertible {
        var searched: [String]
        var description: String { "server-agent binary not found; run `swift build` first. Searched: \(searched)" }
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns the time it took, or nil.
func timeUntil(
    timeout: Duration,
    every pollInterval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async rethrows -> Duration? {
    let clock = ContinuousClock()
    let start = clock.now
    while true {
        if try await condition() { return start.duration(to: clock.now) }
        if start.duration(to: clock.now) >= timeout { return nil }
        try? await Task.sleep(for: pollInterval)
    }
}
