import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file atomically: a temp file in the same directory, renamed on
/// success, so a failed run never leaves a truncated or half-written manifest.
public enum OutputFile {
    public static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        let temp = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try Data(text.utf8).write(to: temp)
            // rename(2) replaces atomically; FileManager.replaceItemAt loses the
            // destination on some Linux Foundation versions.
            guard rename(temp.path, url.path) == 0 else {
                throw ConnTestError(String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw ConnTestError("cannot write \(path): \((error as? ConnTestError)?.description ?? error.localizedDescription)")
        }
    }
}
