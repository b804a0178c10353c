import MusterBase

/// The balancer's addresses to bind, from the config and from `run`'s flags: one host rule (an IP
/// literal, or `*`) for both, so `run --listen` takes what `listen` takes and `check` passes only
/// what `run` can bind.
extension Endpoint.Form {
    /// `listen` and `run --listen`: `HOST:PORT`, `:PORT` or `PORT` (host 0.0.0.0).
    public static let listen = Endpoint.Form.bind(defaultHost: ListenerConfiguration.defaultListenHost, allowsBarePort: true)
    /// The `admin` directive: `HOST:PORT`, `:PORT` or `PORT` (host 127.0.0.1).
    public static let admin = Endpoint.Form.bind(defaultHost: BalancerConfiguration.defaultAdminHost, allowsBarePort: true)
    /// `run --admin` and `members --admin`: `HOST:PORT` or `:PORT` (host 127.0.0.1). A bare port is
    /// refused there: `--admin 8001` reads as a typo for a full address.
    public static let adminFlag = Endpoint.Form.bind(defaultHost: BalancerConfiguration.defaultAdminHost)
}
