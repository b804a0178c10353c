import ArgumentParser
import ChatBenchCore
import NIOCore

/// The default spread of a mode: `hold` needs one to open more connections than one source address
/// has ephemeral ports; `connect` lets the kernel choose unless asked.
protocol SourceSpreadDefault {
    static var defaultSources: Int { get }
}

/// `--sources N`: spread the bench's source addresses over 127.0.0.2 ... 127.0.0.(1+N), which only
/// an IPv4 target can use. Generic over the mode's default so that `--help` still shows it.
struct SourceSpreadOption<Default: SourceSpreadDefault>: ParsableArguments {
    @Option(name: .long, help: "Spread source addresses over 127.0.0.2 ... 127.0.0.(1+N) so ephemeral ports do not run out (IPv4 targets; 0 = the kernel chooses).")
    var sources: Int = Default.defaultSources

    func validate() throws {
        try requireOption("--sources", self.sources, in: 0...250)
    }

    /// The rule that needs the target, which lives in another option group: checked once it is parsed.
    func check(for target: BenchTarget) throws {
        guard self.sources == 0 || target.isIPv4 else {
            throw ValidationError("--sources needs an IPv4 loopback --target (or --sources 0)")
        }
    }

    /// The source address for the connection with this index; nil lets the kernel choose.
    func address(for index: Int) -> SocketAddress? {
        // 127.0.0.2 ... 127.0.0.251 always parse, so `try?` loses nothing.
        self.sources > 0 ? try? SocketAddress(ipAddress: "127.0.0.\(2 + index % self.sources)", port: 0) : nil
    }
}
