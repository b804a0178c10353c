/// A node's access control list. Debian's C client has no TLS or SASL, so digest is the scheme.
public enum NodeACL: Sendable, Hashable {
    /// world:anyone with every permission.
    case open
    /// Every permission for the authenticated identity that creates the node (needs digest auth).
    case creatorAll
    /// Every permission for the creator, read for everyone (the balancer only reads).
    case creatorAllWorldRead
    /// world:anyone read only.
    case worldRead
    /// An explicit list, e.g. digest identities with their permissions.
    case entries([ACLEntry])
}
