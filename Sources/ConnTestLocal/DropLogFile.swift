import Foundation

/// `<state>/<cluster>/drops.log`: one `--monitor` line per policy drop of the latest run. Outside
/// `workload/` on purpose, so it survives the run's cleanup for inspection (`agent cluster down`
/// removes it with the cluster's state).
public final class DropLogFile: @unchecked Sendable {
    public static let fileName = "drops.log"

    public let path: String
    private let lock = NSLock()
    private var handle: FileHandle?

    /// Truncates (or creates) the file.
    public init(clusterDir: String) throws {
        path = clusterDir + "/" + Self.fileName
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    public func append(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        try? handle?.write(contentsOf: Data((line + "\n").utf8))
    }

    public func close() {
        lock.lock()
        defer { lock.unlock() }
        try? handle?.close()
        handle = nil
    }

    deinit { close() }
}
