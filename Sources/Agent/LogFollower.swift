import Foundation

/// Follows a growing text file the way `tail -F` does: returns complete lines appended since the
/// last read, starts over when the file shrinks (a new run truncated it), and waits quietly while
/// the file does not exist. Not thread-safe: one reader polls it.
public struct LogFollower: Sendable {
    public let path: String
    private var offset: UInt64
    private var inode: UInt64?
    private var partial = Data()

    /// `fromStart`: also return the lines already in the file; otherwise only what is appended later.
    public init(path: String, fromStart: Bool) {
        self.path = path
        let file = Self.fileInfo(path)
        inode = file?.inode
        offset = fromStart ? 0 : file?.size ?? 0
    }

    /// Complete lines appended since the last call (without their newlines).
    public mutating func readLines() -> [String] {
        guard let file = Self.fileInfo(path) else {
            // Removed (cluster down): the next file starts at 0.
            offset = 0
            inode = nil
            partial = Data()
            return []
        }
        // Replaced (new inode) or truncated (shorter): a new run's log, read from its start.
        if file.inode != inode || file.size < offset {
            offset = 0
            inode = file.inode
            partial = Data()
        }
        let size = file.size
        guard size > offset, let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd(), !data.isEmpty else { return [] }
        offset += UInt64(data.count)
        partial.append(data)
        guard let lastNewline = partial.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        let complete = partial[partial.startIndex..<lastNewline]
        partial = Data(partial[(lastNewline + 1)...])
        return complete.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    static func fileInfo(_ path: String) -> (size: UInt64, inode: UInt64)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (UInt64(st.st_size), UInt64(st.st_ino))
    }
}
