import Foundation

/// An executable of this package that `swift test` built beside the test bundle (`balancer`,
/// `server-agent`, `muster-acl`, ...): the integration tests run the real binaries.
public enum BuiltBinary {
    /// The package's top folder (for scripts and fixtures).
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The built executable named `name`: beside the running test bundle (up to three folders
    /// up), else in `.build/debug`.
    public static func url(_ name: String) throws -> URL {
        var candidates: [URL] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(directory.appendingPathComponent(name))
                directory.deleteLastPathComponent()
            }
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/\(name)"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        throw TestSupportError("\(name) is not built; run `swift build` first (searched \(candidates.map(\.path)))")
    }
}
