import Testing

@testable import Balancer

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
        #expect(error.message.contains(message), "message was: \(error.message)", sourceLocation: sourceLocation)
        #expect(
            error.file == file && error.line == line && error.column == column,
            "position was \(error.file):\(error.line):\(error.column): \(error.message)", sourceLocation: sourceLocation)
        #expect(error.description == "\(file):\(error.line):\(error.column): \(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
    }
}
