import Testing

@testable import Balancer

/// A config the parser must refuse: its text, read as the file `file`, and where (`line`:`column`) and
/// why (a fragment of the message) it is refused. A row of `ConfigRejectionTests`' table and of
/// `ConfigParserTests`' errors.
struct ConfigRejection: Sendable, CustomTestStringConvertible {
    let text: String
    let file: String
    let line: Int
    let column: Int
    let message: String

    init(_ text: String, file: String, line: Int, column: Int, message: String) {
        self.text = text
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    var testDescription: String { "\(self.file):\(self.line):\(self.column): \(self.message)" }
}

/// Checks that `rejection`'s config is refused where and as it says.
func expectRejected(_ rejection: ConfigRejection, sourceLocation: SourceLocation = #_sourceLocation) {
    expectRejected(
        rejection.text, file: rejection.file, line: rejection.line, column: rejection.column, message: rejection.message,
        sourceLocation: sourceLocation)
}

/// Checks that `text`, read as the file `file`, is refused with a `ConfigError` at `line`:`column`
/// whose message contains `message`, and that the error prints as `FILE:LINE:COL: message`.
func expectRejected(
    _ text: String, file: String, line: Int, column: Int, message: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        let configuration = try BalancerConfiguration.parse(text, file: file)
        Issue.record("accepted: \(text) as \(configuration)", sourceLocation: sourceLocation)
    } catch let error as ConfigError {
        expectConfigError(error, file: file, line: line, column: column, message: message, sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
    }
}

/// Checks that `error` stands at `file`:`line`:`column`, that its message contains `message`, and that
/// it prints as `FILE:LINE:COL: message`.
func expectConfigError(
    _ error: ConfigError, file: String, line: Int, column: Int, message: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(error.message.contains(message), "message was: \(error.message)", sourceLocation: sourceLocation)
    #expect(
        error.file == file && error.line == line && error.column == column,
        "position was \(error.file):\(error.line):\(error.column): \(error.message)", sourceLocation: sourceLocation)
    #expect(error.description == "\(file):\(error.line):\(error.column): \(error.message)", sourceLocation: sourceLocation)
}
