import ProxyProtocolCodec

/// `allow` and `deny` rules in their order (nginx's access module): the first rule that matches
/// the client decides; a client no rule matches is allowed. Checked once per connection.
public struct AccessList: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        public var allows: Bool
        /// nil for `all`.
        public var block: CIDR?

        public init(allows: Bool, block: CIDR?) {
            self.allows = allows
            self.block = block
        }
    }

    public var rules: [Rule]

    public init(_ rules: [Rule] = []) {
        self.rules = rules
    }

    public var isEmpty: Bool { self.rules.isEmpty }

    /// Whether `client` may connect; a client with no IP address (a UNIX socket) meets only `all`.
    public func allows(_ client: IPAddress?) -> Bool {
        for rule in self.rules where rule.block.map({ block in client.map { block.contains($0) } ?? false }) ?? true {
            return rule.allows
        }
        return true
    }
}
