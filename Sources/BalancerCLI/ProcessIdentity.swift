#if canImport(Glibc)
import Glibc
#endif
import Balancer

/// `pid FILE;`: the process id written once the listeners are bound, removed on exit.
enum PidFile {
    /// Writes the file whole (a reader never sees it half written: it is renamed into place).
    static func write(_ path: String) -> String? {
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return "cannot write pid file \(path): \(String(cString: strerror(errno)))" }
        let text = Array("\(getpid())\n".utf8)
        let written = text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == text.count, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return "cannot write pid file \(path): \(reason)"
        }
        return nil
    }

    /// Removes the file if it still holds this process's id (a newer instance may have replaced it).
    static func remove(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        var buffer = [CChar](repeating: 0, count: 32)
        let read = fgets(&buffer, Int32(buffer.count), file) != nil
        fclose(file)
        let digits = buffer.prefix { $0 >= 48 && $0 <= 57 }.map { UInt8(bitPattern: $0) }
        guard read, Int32(String(decoding: digits, as: UTF8.self)) == getpid() else { return nil }
        guard unlink(path) == 0 else { return "cannot remove pid file \(path): \(String(cString: strerror(errno)))" }
        return nil
    }
}

/// `user USER [GROUP];`: the account the balancer switches to after binding, when it runs as root.
struct UserSwitch {
    let name: String
    let uid: uid_t
    let gid: gid_t
    let groupName: String

    /// Looks the account up; the error names the directive's position.
    init(_ configuration: UserConfiguration) throws(UserSwitchError) {
        guard let account = getpwnam(configuration.user) else {
            throw UserSwitchError(message: "\(configuration.origin): no user \"\(configuration.user)\" on this system")
        }
        self.name = configuration.user
        self.uid = account.pointee.pw_uid
        // nginx takes the group named like the user; Debian's nobody has no such group, so its
        // primary group is taken then (nginx refuses).
        let groupName = configuration.group ?? configuration.user
        if let group = getgrnam(groupName) {
            self.gid = group.pointee.gr_gid
            self.groupName = groupName
        } else if configuration.group == nil {
            self.gid = account.pointee.pw_gid
            self.groupName = getgrgid(self.gid).map { String(cString: $0.pointee.gr_name) } ?? "\(self.gid)"
        } else {
            throw UserSwitchError(message: "\(configuration.origin): no group \"\(groupName)\" on this system")
        }
    }

    /// setgroups (the user's supplementary groups), setgid, setuid, in that order, as nginx's
    /// workers do; a failure is fatal: running on as root when told not to would be worse.
    func apply() throws(UserSwitchError) {
        guard initgroups(name, gid) == 0 else { throw failure("initgroups") }
        guard setgid(gid) == 0 else { throw failure("setgid") }
        guard setuid(uid) == 0 else { throw failure("setuid") }
    }

    private func failure(_ call: String) -> UserSwitchError {
        UserSwitchError(message: "\(call) for user \(name) failed: \(String(cString: strerror(errno)))")
    }
}

struct UserSwitchError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
