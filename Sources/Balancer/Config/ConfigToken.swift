/// One lexical unit of an nginx-style config file, with where it starts.
struct ConfigToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A bare or quoted word; quotes and escapes already resolved.
        case word(String)
        case semicolon
        case openBrace
        case closeBrace
        case endOfFile
    }

    var kind: Kind
    var line: Int
    var column: Int
    /// Quoted words are never directive names or `{`-like punctuation, whatever their text.
    var quoted: Bool = false

    /// How the token reads in an error message.
    var display: String {
        switch kind {
        case .word(let text): return "\"\(ConfigError.shown(text))\""
        case .semicolon: return "\";\""
        case .openBrace: return "\"{\""
        case .closeBrace: return "\"}\""
        case .endOfFile: return "end of file"
        }
    }
}
