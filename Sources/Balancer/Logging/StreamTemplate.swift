/// A string with stream variables, compiled once at config load (nginx's log format ops and
/// complex values): literal text and `$name` / `${name}` references. Used by `log_format`,
/// `access_log if=`, `hash KEY`, and whatever else takes a string of variables.
public struct StreamTemplate: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        case literal([UInt8])
        case variable(StreamVariable)
    }

    public private(set) var parts: [Part]

    /// Why a string does not compile, with the character offset (0-based) where the problem starts.
    public struct Invalid: Error, Sendable, Equatable {
        public var offset: Int
        public var message: String
    }

    public init(parts: [Part]) {
        self.parts = parts
    }

    /// Compiles `text` as `ngx_stream_log_compile_format` does: `$` starts a name of letters,
    /// digits and `_`, or a `{`-bracketed one; anything else is literal. An unknown name, a `$`
    /// with no name and an unclosed bracket are errors.
    public init(compiling text: String) throws(Invalid) {
        self.parts = []
        try self.append(compiling: text)
    }

    /// Appends another string's parts (a `log_format` gives its format in several arguments).
    public mutating func append(compiling text: String) throws(Invalid) {
        let scalars = Array(text.unicodeScalars)
        var literal: [UInt8] = []
        var index = 0
        func flushLiteral() {
            if !literal.isEmpty {
                self.parts.append(.literal(literal))
                literal = []
            }
        }
        while index < scalars.count {
            guard scalars[index] == "$" else {
                literal.append(contentsOf: String(scalars[index]).utf8)
                index += 1
                continue
            }
            let dollar = index
            index += 1
            var bracket = false
            if index < scalars.count, scalars[index] == "{" {
                bracket = true
                index += 1
            }
            let start = index
            while index < scalars.count, Self.isNameScalar(scalars[index]) {
                index += 1
            }
            let name = String(String.UnicodeScalarView(scalars[start..<index]))
            if bracket {
                guard index < scalars.count, scalars[index] == "}" else {
                    throw Invalid(offset: dollar, message: "the closing bracket in \"\(ConfigError.shown(name))\" variable is missing")
                }
                index += 1
            }
            guard !name.isEmpty else {
                throw Invalid(offset: dollar, message: "invalid variable name after \"$\"")
            }
            guard let variable = StreamVariable(rawValue: name.lowercased()) else {
                throw Invalid(offset: dollar, message: "unknown \"\(ConfigError.shown(name))\" variable")
            }
            flushLiteral()
            self.parts.append(.variable(variable))
        }
        flushLiteral()
    }

    private static func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "_": return true
        default: return false
        }
    }

    /// The variables referenced, each once.
    public var variables: Set<StreamVariable> {
        Set(self.parts.compactMap { if case .variable(let variable) = $0 { variable } else { nil } })
    }

    /// The template is exactly one variable (so `hash $remote_addr` keeps its fast path).
    public var soleVariable: StreamVariable? {
        if self.parts.count == 1, case .variable(let variable) = self.parts[0] { return variable }
        return nil
    }

    /// Appends the template's value for `values` to `out`, each variable escaped as `escape` says.
    public func render(_ values: borrowing SessionValues, escape: LogEscape = .none, into out: inout [UInt8]) {
        for part in self.parts {
            switch part {
            case .literal(let bytes):
                out.append(contentsOf: bytes)
            case .variable(let variable):
                escape.append(values.value(variable), into: &out)
            }
        }
    }

    /// The template's value, unescaped (a hash key, an `if=` condition).
    public func evaluate(_ values: borrowing SessionValues) -> [UInt8] {
        var out: [UInt8] = []
        self.render(values, into: &out)
        return out
    }
}
