import Foundation
import Logging
import NIOCore

/// Prepares a path for a unix-socket server: creates its directory and removes a stale socket
/// left by a crashed process (upstream does the same before serving).
public enum UnixSocketFile {
    public static func prepare(_ path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var st = stat()
        if lstat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFSOCK else {
                throw SocketFileError(description: "\(path) exists and is not a socket")
            }
            unlink(path)
        }
    }

    /// Upstream's socket mode: owner and group may connect, nobody else.
    public static let mode: mode_t = 0o660
    /// Upstream's group for its API sockets, used when it exists (else the sockets stay root's).
    public static let defaultGroup = "cilium"

    /// The group the sockets get: `group` (which must exist), else `cilium` when that group
    /// exists, else nil (root's group: root-only access).
    public static func resolveGroup(_ group: String?) throws -> gid_t? {
        if let group {
            guard let gid = groupID(group) else { throw SocketFileError(description: "no group '\(group)' on this machine (see /etc/group)") }
            return gid
        }
        return groupID(defaultGroup)
    }

    static func groupID(_ name: String) -> gid_t? {
        if let entry = getgrnam(name) { return entry.pointee.gr_gid }
        return gid_t(name)  // a numeric gid
    }

    /// Sets mode 0660 and the group on a socket a server has just bound, as upstream's
    /// SetDefaultPermissions does. Until then the socket has the umask's mode, which never
    /// grants more than this (connecting needs write permission).
    public static func restrict(_ path: String, group: gid_t?) throws {
        if let group, chown(path, uid_t.max, group) != 0 {  // uid -1: owner unchanged
            throw SocketFileError(description: "cannot give \(path) to group \(group): \(String(cString: strerror(errno)))")
        }
        guard chmod(path, mode) == 0 else {
            throw SocketFileError(description: "cannot set mode 0660 on \(path): \(String(cString: strerror(errno)))")
        }
    }
}

extension UnixSocketFile {
    /// For `Application(onServerRunning:)`: restricts the socket once bound; a failure is logged
    /// (the socket then stays as bound, which never grants more).
    public static func restrictWhenBound(_ path: String, group: gid_t?, logger: Logger) -> @Sendable (any Channel) async -> Void {
        { _ in
            do { try restrict(path, group: group) } catch { logger.error("\(error)") }
        }
    }
}

public struct SocketFileError: Error, CustomStringConvertible {
    public let description: String
}
