import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file atomically: a temp file in the same directory, renamed on
/// success, so a failed run never leaves a truncated or half-written file.
/// POSIX calls rather than `Data.write`, so errors read "not a directory", not
/// "NSCocoaErrorDomain error 512".
public enum OutputFile {
    /// `mode` is set on the temp file before the rename (regardless of umask), so readers never
    /// see other permissions; nil keeps 0666 minus the umask.
    public static func write(_ text: String, to path: String, mode: mode_t? = nil) throws {
        let temp = temporaryPath(for: path)
        do {
            let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            guard fd >= 0 else { throw posixError() }
            defer { close(fd) }
            let bytes = Array(text.utf8)
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress.map { $0 + written }, $0.count - written) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw posixError() }
                written += n
            }
            if let mode { guard fchmod(fd, mode) == 0 else { throw posixError() } }
            // rename(2) replaces atomically; FileManager.replaceItemAt loses the
            // destination on some Linux Foundation versions.
            guard rename(temp, path) == 0 else { throw posixError() }
        } catch let error as ConnTestError {
            unlink(temp)
            throw ConnTestError("cannot write \(path): \(error.description)")
        }
    }

    /// Fails now, before any work, if `write(_:to:)` could not write `path` later: the
    /// destination is a directory, or its directory is missing or not writable. `flag` names the
    /// option in the message. Nothing is left behind.
    public static func checkWritable(_ path: String, flag: String) throws {
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw ConnTestError("invalid \(flag) '\(path)': is a directory")
        }
        let temp = temporaryPath(for: path)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let dir = (path as NSString).deletingLastPathComponent
            throw ConnTestError("invalid \(flag) '\(path)': cannot create a file in '\(dir.isEmpty ? "." : dir)': \(posixError())")
        }
        close(fd)
        unlink(temp)
    }

    static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)").path
    }

    /// errno in the words Go's os package uses ("no such file or directory").
    static func posixError() -> ConnTestError {
        ConnTestError(String(cString: strerror(errno)).lowercased())
    }
}

/// write(2), out of reach inside `OutputFile` whose own `write` shadows it.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}
