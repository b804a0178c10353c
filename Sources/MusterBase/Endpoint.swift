/// A host and a port: a member to dial, an address to bind, a ZooKeeper server. Written in one
/// place (``description``: IPv6 literals in brackets, `[::1]:6000`, so the port stays unambiguous)
/// and parsed in one place (``parse(_:_:)``, by the rules of a ``Form``).
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// An IP address (IPv6 without brackets) or a DNS name.
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, IPv6 hosts in brackets.
    public var description: String {
        "\(bracketedHost):\(port)"
    }

    /// The host as written before `:PORT`: IPv6 literals in brackets.
    public var bracketedHost: String {
        host.contains(":") ? "[\(host)]" : host
    }
}
