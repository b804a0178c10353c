/// Text from outside that Muster refused, and why: what a parser of untrusted input throws (an
/// address, a duration, a host name the resolver does not know). The text is kept whole for the
/// caller; ``description`` shows it only through ``UntrustedText`` (escaped and cut to the kind's
/// ``TextKind/shownLimit``), so a hostile value can neither forge the log line it lands in nor make
/// it long.
public struct RejectedText<Kind: TextKind>: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text as it was given.
    public var input: String
    public var problem: Kind.Problem

    public init(input: some StringProtocol, problem: Kind.Problem) {
        self.input = String(input)
        self.problem = problem
    }

    public var description: String {
        Kind.describe(UntrustedText.escaped(input, limit: Kind.shownLimit), problem)
    }
}

/// A kind of text that ``RejectedText`` reports on: its problems, and the sentence an error makes
/// of the shown (already escaped) text and the problem.
public protocol TextKind {
    associatedtype Problem: Sendable, Equatable, CustomStringConvertible
    /// How many characters of a rejected text an error shows.
    static var shownLimit: Int { get }
    static func describe(_ shown: String, _ problem: Problem) -> String
}

extension TextKind {
    public static var shownLimit: Int { UntrustedText.defaultLimit }
}
