import Foundation

/// `StateLayout.dropLogPath`: one `--monitor` line per policy drop of the latest run, which
/// `agent monitor --type drop` follows.
public final class DropLogFile: @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    private var handle: FileHandle?

    /// Truncates (or creates) the file.
    public init(path: String) throws {
        self.path = path
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
