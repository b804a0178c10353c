/// `log_format NAME [escape=default|json|none] STRING...`: a named line template.
public struct LogFormat: Sendable, Equatable {
    public var name: String
    public var escape: LogEscape
    public var template: StreamTemplate

    public init(name: String, escape: LogEscape = .default, template: StreamTemplate) {
        self.name = name
        self.escape = escape
        self.template = template
    }

    /// One log line for `values`, with its newline.
    public func line(_ values: borrowing SessionValues, into out: inout [UInt8]) {
        self.template.render(values, escape: self.escape, into: &out)
        out.append(UInt8(ascii: "\n"))
    }
}

/// `access_log PATH FORMAT [buffer=SIZE] [flush=TIME] [if=CONDITION]` of a `stream` or `server`.
public struct AccessLogConfiguration: Sendable, Equatable {
    /// The file, as written (relative paths are the config's business: nginx's prefix).
    public var path: String
    public var format: LogFormat
    /// `buffer=`: bytes gathered before a write, 0 = none (each drain of the queue writes).
    public var bufferSize: Int
    /// `flush=`: the longest a line waits in the buffer, nil = until the buffer is full.
    public var flush: Duration?
    /// `if=`: the line is skipped when the condition is empty or "0".
    public var condition: StreamTemplate?

    public init(path: String, format: LogFormat, bufferSize: Int = 0, flush: Duration? = nil, condition: StreamTemplate? = nil) {
        self.path = path
        self.format = format
        self.bufferSize = bufferSize
        self.flush = flush
        self.condition = condition
    }

    /// Whether `values` passes the `if=` condition.
    public func accepts(_ values: borrowing SessionValues) -> Bool {
        guard let condition else { return true }
        let value = condition.evaluate(values)
        return !(value.isEmpty || value == [UInt8(ascii: "0")])
    }

    /// The variables the log needs, for the engine (the local address only when asked for).
    var variables: Set<StreamVariable> {
        self.format.template.variables.union(self.condition?.variables ?? [])
    }
}
