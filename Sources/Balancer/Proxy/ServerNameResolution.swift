import Dispatch
import ProxyEngine
import MusterBase

extension BalancerConfiguration {
    /// The configuration with every `server NAME:PORT` of every upstream replaced by one server per
    /// address the name resolves to, each with the line's parameters (as nginx does at start and
    /// reload: a name with three addresses is three peers of the same weight). The workers then
    /// connect to numeric addresses only and never resolve anything.
    ///
    /// Blocking (getaddrinfo), so it runs where nginx resolves too: `balancer check`, start and
    /// SIGHUP reload, before anything is applied. A name that does not resolve is an error naming
    /// the `server` line; a reload that fails keeps the running configuration. An address that is
    /// already in the upstream is one more peer, as the same address written twice is (nginx's
    /// `ngx_stream_upstream_init_round_robin` keeps every address of every line).
    public func resolvingServerNames(
        resolve: (String, Int) -> Result<[EngineAddress], ResolveError> = EngineAddress.resolve
    ) throws(ConfigError) -> BalancerConfiguration {
        var resolved = self
        for (index, upstream) in self.upstreams.enumerated() {
            let positions = self.serverPositions[upstream.name] ?? []
            var servers: [StaticServer] = []
            var lines: [ConfigError] = []
            for (line, server) in upstream.servers.enumerated() {
                let position =
                    line < positions.count
                    ? positions[line] : ConfigError(file: "(config)", line: 0, column: 0, message: "")
                func failure(_ message: String) -> ConfigError {
                    ConfigError(file: position.file, line: position.line, column: position.column, message: message)
                }
                let name = "\(Endpoint(host: server.host, port: server.port))"
                var expanded: [StaticServer] = []
                if HostSyntax.isIPv4(server.host) || HostSyntax.isIPv6(server.host) {
                    expanded = [server]
                } else {
                    switch resolve(server.host, server.port) {
                    case .failure(let error):
                        throw failure(
                            "host not found in upstream \"\(ConfigError.shown(name))\": \(ConfigError.shown(error.problem))")
                    case .success(let addresses):
                        for address in addresses {
                            var copy = server
                            copy.host = address.hostText
                            expanded.append(copy)
                        }
                    }
                }
                servers += expanded
                lines += Array(repeating: position, count: expanded.count)
            }
            resolved.upstreams[index].servers = servers
            resolved.serverPositions[upstream.name] = lines
        }
        return resolved
    }
}

extension BalancerConfiguration {
    /// `resolvingServerNames()` on a dispatch thread: getaddrinfo can wait seconds for a slow DNS
    /// server, which must not hold one of Swift concurrency's few cooperative threads.
    func resolvedOffTheCooperativePool() async throws -> BalancerConfiguration {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<BalancerConfiguration, any Error>) in
            DispatchQueue.global().async {
                done.resume(with: Result { () throws(ConfigError) -> BalancerConfiguration in try self.resolvingServerNames() })
            }
        }
    }
}
