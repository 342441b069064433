import Foundation

/// Prepares a path for a unix-socket server: creates its directory and removes a stale socket
/// left by a crashed process (upstream does the same before serving).
public enum UnixSocketFile {
    public static func prepare(_ path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var st = stat()
        if lstat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFSOCK else {
                throw CocoaError(.fileWriteFileExists, userInfo: [NSFilePathErrorKey: path])
            }
            unlink(path)
        }
    }
}
