import Foundation
import Synchronization

/// The `balancer` executable running as a child process, its standard error collected so a test
/// can wait for a log line. Killed (by its pid) when the test ends.
final class BalancerProcess: Sendable {
    let process: Process
    private final class Output: Sendable {
        let text = Mutex("")
    }
    private let stderr = Output()

    init(arguments: [String]) throws {
        let process = Process()
        process.executableURL = try BalancerBinaryTests.binary()
        process.arguments = arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        self.process = process
        pipe.fileHandleForReading.readabilityHandler = { [stderr] handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                return
            }
            stderr.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    var pid: Int32 { self.process.processIdentifier }
    var isRunning: Bool { self.process.isRunning }
    /// What the process wrote to standard error so far.
    var errorOutput: String { self.stderr.text.withLock { $0 } }

    /// How many times `text` occurs in standard error so far.
    func count(_ text: String) -> Int {
        self.errorOutput.components(separatedBy: text).count - 1
    }

    func signal(_ signal: Int32) {
        if self.process.isRunning { Foundation.kill(self.pid, signal) }
    }

    func kill() {
        self.signal(SIGKILL)
        self.process.waitUntilExit()
    }

    deinit {
        if self.process.isRunning { Foundation.kill(self.process.processIdentifier, SIGKILL) }
    }
}
