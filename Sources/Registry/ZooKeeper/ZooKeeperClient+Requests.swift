import CZooKeeper

/// The requests: each one C call, issued by the handle's owner, its completion turned back into
/// a value or a ``ZooKeeperError`` naming the operation and the caller's path.
extension ZooKeeperClient {
    /// Issues one asynchronous C request and waits for its completion. `server` overrides the
    /// server path (the chroot's own components); `absent` is the answer for a missing node
    /// (exists, whose watch then stays armed for the node's creation).
    func request<T: Sendable>(
        _ operation: String, _ path: String, server: String? = nil, watch: WatchHandler? = nil, absent: T? = nil,
        issue: @escaping @Sendable (HandleOwner.Issue) -> Int32,
        decode: @escaping @Sendable (CompletionPayload) -> T?
    ) async throws -> T {
        let full = try server ?? chroot.serverPath(path, operation: operation)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            owner.request(path: full, watch: watch, watchSurvives: { absent != nil && $0 == .noNode }, completion: { result in
                switch result {
                case .success(let payload):
                    if let value = decode(payload) {
                        continuation.resume(returning: value)
                    } else {
                        continuation.resume(throwing: ZooKeeperError(.marshallingError, operation: operation, path: path))
                    }
                case .failure(.noNode) where absent != nil:
                    continuation.resume(returning: absent!)
                case .failure(let code):
                    continuation.resume(throwing: ZooKeeperError(code, operation: operation, path: path))
                }
            }, issue: issue)
        }
    }

    /// A request that arms a one-shot watch, and the watch.
    private func watching<T: Sendable>(
        _ operation: String, _ path: String, absent: T? = nil,
        issue: @escaping @Sendable (HandleOwner.Issue) -> Int32,
        decode: @escaping @Sendable (CompletionPayload) -> T?
    ) async throws -> (T, NodeWatch) {
        let chroot = self.chroot
        let (watch, handler) = NodeWatch.make(mapPath: { chroot.clientPath($0) })
        let value = try await request(operation, path, watch: handler, absent: absent, issue: issue, decode: decode)
        return (value, watch)
    }

    /// Creates a node and returns its path (with the sequence suffix for sequential modes).
    /// With `makeParents`, missing ancestors are created as persistent nodes with `parentACL`.
    @discardableResult
    public func create(_ path: String, data: [UInt8] = [], mode: CreateMode = .persistent, acl: NodeACL = .open,
                       makeParents: Bool = false, parentACL: NodeACL = .open) async throws -> String {
        do {
            return try await createOnce(path, data: data, mode: mode, acl: acl)
        } catch let error as ZooKeeperError where error.code == .noNode && makeParents {
            try await createParents(of: path, acl: parentACL)
            return try await createOnce(path, data: data, mode: mode, acl: acl)
        }
    }

    /// Creates every missing ancestor of `path` (and the chroot) as a persistent node; the chroot
    /// and its ancestors get an open ACL (they lie outside this client's tree).
    public func createParents(of path: String, acl: NodeACL = .open) async throws {
        for ancestor in try chroot.ancestors(of: path, operation: "create") {
            do {
                try await createOnce(ancestor.client, server: ancestor.outsideTree ? ancestor.server : nil,
                                     data: [], mode: .persistent, acl: ancestor.outsideTree ? .open : acl)
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                continue
            }
        }
    }

    @discardableResult
    private func createOnce(_ path: String, server: String? = nil, data: [UInt8], mode: CreateMode, acl: NodeACL) async throws -> String {
        let flags = mode.cFlags
        let created: String = try await request("create", path, server: server, issue: { call in
            withACL(acl) { aclVector in
                data.withUnsafeBytes { buffer in
                    zoo_acreate(call.handle, call.path, buffer.baseAddress?.assumingMemoryBound(to: CChar.self),
                                Int32(buffer.count), aclVector, flags, stringCompletion, call.completion)
                }
            }
        }, decode: { payload in
            if case .string(let name) = payload { return name ?? path }
            return nil
        })
        return chroot.clientPath(created)
    }

    /// Deletes a node; `version` -1 matches any version.
    public func delete(_ path: String, version: Int32 = -1) async throws {
        let _: Void = try await request("delete", path, issue: { call in
            zoo_adelete(call.handle, call.path, version, voidCompletion, call.completion)
        }, decode: { _ in () })
    }

    /// The node's stat, or nil if it does not exist.
    public func exists(_ path: String) async throws -> NodeStat? {
        try await request("exists", path, absent: .some(nil), issue: { call in
            zoo_aexists(call.handle, call.path, 0, statCompletion, call.completion)
        }, decode: Self.decodeExists) ?? nil
    }

    /// The node's stat (nil if missing) and a watch that fires when it is created, deleted or changed.
    public func existsWatching(_ path: String) async throws -> (stat: NodeStat?, watch: NodeWatch) {
        let (stat, watch) = try await watching("exists", path, absent: .some(nil), issue: { call in
            zoo_awexists(call.handle, call.path, nodeWatcher, call.watch, statCompletion, call.completion)
        }, decode: Self.decodeExists)
        return (stat ?? nil, watch)
    }

    /// The node's data and stat.
    public func getData(_ path: String) async throws -> (data: [UInt8], stat: NodeStat) {
        try await request("get", path, issue: { call in
            zoo_aget(call.handle, call.path, 0, dataCompletion, call.completion)
        }, decode: Self.decodeData)
    }

    /// The node's data and stat, and a watch that fires when it changes or is deleted.
    public func getDataWatching(_ path: String) async throws -> (data: [UInt8], stat: NodeStat, watch: NodeWatch) {
        let ((data, stat), watch) = try await watching("get", path, issue: { call in
            zoo_awget(call.handle, call.path, nodeWatcher, call.watch, dataCompletion, call.completion)
        }, decode: Self.decodeData)
        return (data, stat, watch)
    }

    /// Replaces the node's data; `version` -1 matches any version. Returns the new stat.
    @discardableResult
    public func setData(_ path: String, data: [UInt8], version: Int32 = -1) async throws -> NodeStat {
        try await request("set", path, issue: { call in
            data.withUnsafeBytes { buffer in
                zoo_aset(call.handle, call.path, buffer.baseAddress?.assumingMemoryBound(to: CChar.self),
                         Int32(buffer.count), version, statCompletion, call.completion)
            }
        }, decode: { payload in
            if case .stat(let stat) = payload { return stat ?? NodeStat() }
            return nil
        })
    }

    /// The names of the node's children (unsorted, as the server returns them).
    public func getChildren(_ path: String) async throws -> [String] {
        try await request("children", path, issue: { call in
            zoo_aget_children2(call.handle, call.path, 0, stringsStatCompletion, call.completion)
        }, decode: Self.decodeChildren).children
    }

    /// The node's children and stat, and a watch that fires when a child is added or removed
    /// (or the node itself is deleted).
    public func getChildrenWatching(_ path: String) async throws -> (children: [String], stat: NodeStat, watch: NodeWatch) {
        let ((children, stat), watch) = try await watching("children", path, issue: { call in
            zoo_awget_children2(call.handle, call.path, nodeWatcher, call.watch, stringsStatCompletion, call.completion)
        }, decode: Self.decodeChildren)
        return (children, stat, watch)
    }

    /// Replaces the node's ACL; `version` -1 matches any ACL version.
    public func setACL(_ path: String, _ entries: [ACLEntry], version: Int32 = -1) async throws {
        let _: Void = try await request("setAcl", path, issue: { call in
            withACL(.entries(entries)) { vector in
                zoo_aset_acl(call.handle, call.path, version, UnsafeMutablePointer(mutating: vector), voidCompletion, call.completion)
            }
        }, decode: { _ in () })
    }

    /// The node's ACL.
    public func getACL(_ path: String) async throws -> [ACLEntry] {
        try await request("getAcl", path, issue: { call in
            zoo_aget_acl(call.handle, call.path, aclCompletion, call.completion)
        }, decode: { payload in
            if case .acl(let entries) = payload { return entries }
            return nil
        })
    }

    private static let decodeExists: @Sendable (CompletionPayload) -> NodeStat?? = { payload in
        if case .stat(let stat) = payload { return .some(stat) }
        return nil
    }

    private static let decodeData: @Sendable (CompletionPayload) -> ([UInt8], NodeStat)? = { payload in
        if case .data(let bytes, let stat) = payload { return (bytes ?? [], stat ?? NodeStat()) }
        return nil
    }

    private static let decodeChildren: @Sendable (CompletionPayload) -> (children: [String], stat: NodeStat)? = { payload in
        if case .strings(let names, let stat) = payload { return (names, stat ?? NodeStat()) }
        return nil
    }
}
