import ProxyEngine
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The engine's worker threads, as an operator sees them in `top -H` or `ps -L`.
@Suite("Engine threads", .timeLimit(.minutes(1)))
struct EngineThreadTests {
    /// The names of this process's threads, from /proc.
    private static func threadNames() throws -> [String] {
        guard let directory = opendir("/proc/self/task") else {
            throw EngineError.system(call: "opendir /proc/self/task", errno: errno)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let id = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard id.first?.isNumber == true, let file = fopen("/proc/self/task/\(id)/comm", "r") else { continue }
            var line = [CChar](repeating: 0, count: 64)
            if fgets(&line, Int32(line.count), file) != nil {
                let name = String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                names.append(name)
            }
            fclose(file)
        }
        return names
    }

    @Test("each worker is a thread named balancer-wN (what top -H and ps -L show)")
    func workersAreNamed() async throws {
        let engine = try ProxyEngine(workers: 3)
        // The threads name themselves once they run: wait for that, with a deadline.
        let deadline = ContinuousClock.now + .seconds(10)
        var names = try Self.threadNames()
        while names.filter({ $0.hasPrefix("balancer-w") }).count < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            names = try Self.threadNames()
        }
        for index in 0..<3 {
            #expect(names.contains("balancer-w\(index)"))
        }
        await engine.shutdown()
    }
}
