import MusterBase

/// A connect string's chroot, applied by this client rather than the C library, so the chroot
/// is created like any other parent. Paths the caller sees are without it, paths sent to the
/// server with it.
struct Chroot: Sendable, Hashable {
    /// `""` for none, else a ZooKeeper path without a trailing `/` (e.g. `/muster`).
    let prefix: String

    /// The server's path for a caller's path; `.badArguments` for a path ZooKeeper refuses.
    func serverPath(_ path: String, operation: String) throws(ZooKeeperError) -> String {
        guard ServicePath.zooKeeperProblem(with: path) == nil else {
            throw ZooKeeperError(.badArguments, operation: operation, path: path)
        }
        if prefix.isEmpty { return path }
        return path == "/" ? prefix : prefix + path
    }

    /// The caller's path for a server path (a watch event's, a created sequential node's). The
    /// chroot matches whole components only: `/a` is not a prefix of `/ab/c`, which is returned
    /// as it is (a path outside the chroot).
    func clientPath(_ server: String) -> String {
        guard !prefix.isEmpty else { return server }
        if server == prefix { return "/" }
        guard server.hasPrefix(prefix + "/") else { return server }
        return String(server.dropFirst(prefix.count))
    }

    /// One ancestor to create for a path.
    struct Ancestor: Sendable, Hashable {
        /// The path on the server.
        var server: String
        /// The path the caller sees (`/` for the chroot and its ancestors).
        var client: String
        /// Whether it is the chroot or one of its ancestors, outside the caller's tree.
        var outsideTree: Bool
    }

    /// The ancestors of `path`, outermost first, the chroot's own included.
    func ancestors(of path: String, operation: String) throws(ZooKeeperError) -> [Ancestor] {
        var components = try serverPath(path, operation: operation).split(separator: "/").map(String.init)
        guard !components.isEmpty else { return [] }
        components.removeLast()
        var prefix = ""
        return components.map { component in
            prefix += "/" + component
            return Ancestor(server: prefix, client: clientPath(prefix),
                            outsideTree: !self.prefix.isEmpty && prefix.count <= self.prefix.count)
        }
    }
}
