/// One entry of a node's access control list: who (`scheme:id`) may do what.
public struct ACLEntry: Sendable, Hashable, CustomStringConvertible {
    /// ZooKeeper's permission bits (`ZOO_PERM_*`).
    public struct Permissions: OptionSet, Sendable, Hashable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        // `read`, `write`, `create`, `delete`, `admin` and `all` are read from the C library
        // (CConstants.swift).

        /// zkCli's letters: `cdrwa`.
        public var letters: String {
            [(Permissions.create, "c"), (.delete, "d"), (.read, "r"), (.write, "w"), (.admin, "a")]
                .filter { contains($0.0) }.map(\.1).joined()
        }
    }

    public var scheme: String
    public var id: String
    public var permissions: Permissions

    // Made outside this module only by the schemes' factories (`digest`, `world`), so no entry is
    // written with a misspelt scheme or a digest id in the wrong form; the memberwise init is
    // internal, for them and for the entries read back from ZooKeeper.

    /// `digest:<user>:<base64 sha1>` for the identity these credentials log in as.
    public static func digest(_ credentials: DigestCredentials, _ permissions: Permissions) -> ACLEntry {
        ACLEntry(scheme: "digest", id: credentials.digestID, permissions: permissions)
    }

    public static func world(_ permissions: Permissions) -> ACLEntry {
        ACLEntry(scheme: "world", id: "anyone", permissions: permissions)
    }

    /// zkCli's form, `digest:user:hash:cdrwa`.
    public var description: String { "\(scheme):\(id):\(permissions.letters)" }
}

extension DigestCredentials {
    /// The id ZooKeeper's digest scheme gives these credentials: `user:base64(sha1("user:password"))`,
    /// as `org.apache.zookeeper.server.auth.DigestAuthenticationProvider.generateDigest` computes
    /// it. It names the identity without revealing the password.
    public var digestID: String {
        "\(user):\(base64(SHA1.hash(Array(scheme.utf8))))"
    }
}

private func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    var index = 0
    while index < bytes.count {
        let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
        let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
        for position in 0..<4 {
            if position <= chunk.count {
                out.append(alphabet[Int((value >> (18 - 6 * UInt32(position))) & 0x3F)])
            } else {
                out.append(UInt8(ascii: "="))
            }
        }
        index += 3
    }
    return String(decoding: out, as: UTF8.self)
}
