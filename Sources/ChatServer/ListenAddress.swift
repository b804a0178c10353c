import ArgumentParser

/// A `host:port` pair from the command line; `[v6]:port` is accepted for IPv6.
struct ListenAddress: Equatable {
    var host: String
    var port: Int

    init(parsing text: String) throws {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw ValidationError("expected [host]:port, got '\(text)'")
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ValidationError("expected host:port, got '\(text)'")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else {
            throw ValidationError("missing host in '\(text)'")
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ValidationError("port must be 0-65535 in '\(text)'")
        }
        self.host = String(host)
        self.port = port
    }
}
