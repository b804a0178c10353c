import Foundation

/// Writes a line to stderr (errors for the operator; stdout stays for results).
func printError(_ message: String) {
    let line = message.hasSuffix("\n") ? message : message + "\n"
    FileHandle.standardError.write(Data(line.utf8))
}
