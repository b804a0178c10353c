/// The member chosen for one client connection; a connection slot is reserved for it until
/// `connectFailed` or `connectionClosed` is reported to the pool.
public struct Pick: Sendable, Equatable {
    public var id: MemberID
    public var host: String
    public var port: Int
}
