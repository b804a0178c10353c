/// One directive of the config tree: `name arg... ;` or `name arg... { children }`.
struct ConfigDirective: Sendable, Equatable {
    /// A directive argument with its position, for precise errors.
    struct Argument: Sendable, Equatable {
        var text: String
        /// The file it was read from (the main config or an included one), for errors.
        var file: String
        var line: Int
        var column: Int

        /// An error at scalar `offset` of the text (a template's): past a newline that a quoted
        /// string holds, the line is the next one and the column counts from its start.
        func error(at offset: Int, _ message: String) -> ConfigError {
            let before = text.unicodeScalars.prefix(offset)
            guard let lastNewline = before.lastIndex(of: "\n") else {
                return ConfigError(file: file, line: line, column: column + offset, message: message)
            }
            let lines = before.count(where: { $0 == "\n" })
            let column = before[before.index(after: lastNewline)...].count + 1
            return ConfigError(file: file, line: line + lines, column: column, message: message)
        }
    }

    var name: String
    /// The file it was read from (the main config or an included one), for errors.
    var file: String
    var line: Int
    var column: Int
    var arguments: [Argument]
    /// `nil` for a simple directive ending in `;`, the children for a block directive.
    var block: [ConfigDirective]?

    /// Builds the directive tree from tokens; reports structural errors (unbalanced braces, missing `;`).
    static func parseTree(_ tokens: [ConfigToken], file: String) throws(ConfigError) -> [ConfigDirective] {
        var parser = TreeParser(tokens: tokens, file: file)
        return try parser.parseBlock(opener: nil)
    }
}

private struct TreeParser {
    let tokens: [ConfigToken]
    let file: String
    var position = 0
    var depth = 0
    /// nginx configs nest three levels deep at most here; the bound keeps a hostile file from
    /// exhausting the stack through recursion.
    static let maximumDepth = 16

    init(tokens: [ConfigToken], file: String) {
        self.tokens = tokens
        self.file = file
    }

    private func error(_ token: ConfigToken, _ message: String) -> ConfigError {
        ConfigError(file: file, line: token.line, column: token.column, message: message)
    }

    /// Parses directives until the `}` closing `opener`, or until end of file at top level.
    mutating func parseBlock(opener: ConfigDirective?) throws(ConfigError) -> [ConfigDirective] {
        var directives: [ConfigDirective] = []
        while true {
            let first = tokens[position]
            switch first.kind {
            case .endOfFile:
                if let opener {
                    throw error(first, "unexpected end of file, expecting \"}\" to close the \"\(ConfigError.shown(opener.name))\" block opened at line \(opener.line)")
                }
                return directives
            case .closeBrace:
                position += 1
                if opener == nil {
                    throw error(first, "unexpected \"}\": no block is open here")
                }
                return directives
            case .semicolon:
                throw error(first, "unexpected \";\": a directive name is missing before it")
            case .openBrace:
                throw error(first, "unexpected \"{\": a block needs a name (e.g. \"upstream NAME {\")")
            case .word(let name):
                position += 1
                var directive = ConfigDirective(name: name, file: file, line: first.line, column: first.column, arguments: [], block: nil)
                argumentLoop: while true {
                    let token = tokens[position]
                    switch token.kind {
                    case .word(let text):
                        directive.arguments.append(.init(text: text, file: file, line: token.line, column: token.column))
                        position += 1
                    case .semicolon:
                        position += 1
                        break argumentLoop
                    case .openBrace:
                        position += 1
                        depth += 1
                        if depth > Self.maximumDepth {
                            throw error(token, "blocks are nested too deeply (more than \(Self.maximumDepth) levels)")
                        }
                        directive.block = try parseBlock(opener: directive)
                        depth -= 1
                        break argumentLoop
                    case .closeBrace, .endOfFile:
                        throw error(token, "unexpected \(token.display): directive \"\(ConfigError.shown(name))\" (line \(first.line)) is not terminated by \";\"")
                    }
                }
                directives.append(directive)
            }
        }
    }
}
