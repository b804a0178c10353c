import MusterBase

/// A configuration problem, positioned in the file so the operator can fix it.
///
/// `description` reads `FILE:LINE:COLUMN: message`, the way compilers and `nginx -t` report.
public struct ConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, counted in characters (not bytes), so non-ASCII lines point right.
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }

    /// A config token as an error message shows it: escaped and cut, so a control byte cannot
    /// forge a log line and a 1 MB token gives a short line.
    static func shown(_ text: some StringProtocol) -> String {
        UntrustedText.escaped(text, limit: 80)
    }
}
