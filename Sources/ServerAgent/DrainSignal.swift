#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The Unix signal that toggles the member's `draining` flag (`--drain-signal`).
public enum DrainSignal: String, Sendable, CaseIterable {
    case usr1 = "USR1"
    case usr2 = "USR2"
    case hup = "HUP"

    /// Accepts `USR1`, `SIGUSR1`, `usr1`; `none` means no drain signal (returns `nil`).
    public static func parse(_ text: String) -> DrainSignal?? {
        var name = text.uppercased()
        if name == "NONE" { return .some(nil) }
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        guard let signal = DrainSignal(rawValue: name) else { return nil }
        return .some(signal)
    }

    public var signalNumber: Int32 {
        switch self {
        case .usr1: SIGUSR1
        case .usr2: SIGUSR2
        case .hup: SIGHUP
        }
    }

    public var displayName: String { "SIG\(rawValue)" }
}
