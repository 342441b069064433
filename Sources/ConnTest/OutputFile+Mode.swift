import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension OutputFile {
    /// Like `write(_:to:)` but the file gets `mode` regardless of umask, set on
    /// the temp file before the rename so readers never see other permissions.
    public static func write(_ text: String, to path: String, mode: mode_t) throws {
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try Data(text.utf8).write(to: temp)
            guard chmod(temp.path, mode) == 0, rename(temp.path, url.path) == 0 else {
                throw ConnTestError(String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw ConnTestError("cannot write \(path): \((error as? ConnTestError)?.description ?? error.localizedDescription)")
        }
    }
}
