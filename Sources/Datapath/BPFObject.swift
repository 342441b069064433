import CLibBPF
import Foundation

/// A file descriptor of a loaded BPF map with raw key/value access.
public struct BPFMap: Sendable {
    public let name: String
    public let fd: Int32

    public func update(key: UnsafeRawPointer, value: UnsafeRawPointer, flags: UInt64 = UInt64(BPF_ANY)) throws {
        try BPFError.check(bpf_map_update_elem(fd, key, value, flags), "update map \(name)")
    }

    /// Returns false when the key was not present.
    @discardableResult
    public func delete(key: UnsafeRawPointer) throws -> Bool {
        let rc = bpf_map_delete_elem(fd, key)
        if rc == -ENOENT { return false }
        try BPFError.check(rc, "delete from map \(name)")
        return true
    }

    /// Returns false when the key was not present.
    public func lookup(key: UnsafeRawPointer, value: UnsafeMutableRawPointer) throws -> Bool {
        let rc = bpf_map_lookup_elem(fd, key, value)
        if rc == -ENOENT { return false }
        try BPFError.check(rc, "lookup in map \(name)")
        return true
    }

    /// Returns false at the end of iteration. `key` nil starts from the first key.
    public func nextKey(after key: UnsafeRawPointer?, into next: UnsafeMutableRawPointer) throws -> Bool {
        let rc = bpf_map_get_next_key(fd, key, next)
        if rc == -ENOENT { return false }
        try BPFError.check(rc, "iterate map \(name)")
        return true
    }
}

/// An opened and loaded libbpf `bpf_object`. Owns its programs and maps (nothing is pinned):
/// they disappear when the object is closed and no tc filter references the programs.
public final class BPFObject: @unchecked Sendable {
    /// Environment variable naming the compiled object (overrides the default search).
    public static let objectPathEnvironmentKey = "DATAPATH_BPF_OBJECT"
    public static let defaultObjectName = "policy.bpf.o"

    public let path: String
    private let lock = NSLock()
    private var object: OpaquePointer?

    private init(path: String, object: OpaquePointer) {
        self.path = path
        self.object = object
    }

    deinit { close() }

    /// Opens and loads the object at `path` (default: `defaultObjectPath()`).
    public static func open(path: String? = nil) throws -> BPFObject {
        guard let path = path ?? defaultObjectPath() else {
            throw BPFError(operation: "open BPF object",
                           message: "\(defaultObjectName) not found; run bpf/build.sh or set \(objectPathEnvironmentKey)")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw BPFError(operation: "open BPF object \(path)", code: ENOENT)
        }
        guard let obj = bpf_object__open_file(path, nil) else {
            throw BPFError(operation: "bpf_object__open_file \(path)", code: errno)
        }
        let rc = bpf_object__load(obj)
        if rc < 0 {
            bpf_object__close(obj)
            throw BPFError(operation: "bpf_object__load \(path) (verifier log on stderr)", code: rc)
        }
        return BPFObject(path: path, object: obj)
    }

    /// `$DATAPATH_BPF_OBJECT`, else `policy.bpf.o` in `.build/bpf` or `bpf/` of the current
    /// directory or of any ancestor of the running executable (covers `.build/<triple>/debug/x`).
    public static func defaultObjectPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let p = environment[objectPathEnvironmentKey], !p.isEmpty { return p }
        var dirs = [FileManager.default.currentDirectoryPath]
        var exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        for _ in 0..<6 {
            exe.deleteLastPathComponent()
            dirs.append(exe.path)
        }
        if let r = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var u = URL(fileURLWithPath: r)
            for _ in 0..<6 { u.deleteLastPathComponent(); dirs.append(u.path) }
        }
        for d in dirs {
            for rel in [".build/bpf/\(defaultObjectName)", "bpf/\(defaultObjectName)"] {
                let p = (d as NSString).appendingPathComponent(rel)
                if FileManager.default.isReadableFile(atPath: p) { return p }
            }
        }
        return nil
    }

    private func withObject<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        lock.lock(); defer { lock.unlock() }
        guard let obj = object else { throw BPFError(operation: "BPF object \(path)", message: "closed") }
        return try body(obj)
    }

    public func programFD(named name: String) throws -> Int32 {
        try withObject { obj in
            guard let prog = bpf_object__find_program_by_name(obj, name) else {
                throw BPFError(operation: "find program \(name)", code: ENOENT)
            }
            return try BPFError.check(bpf_program__fd(prog), "program fd \(name)")
        }
    }

    public func map(named name: String) throws -> BPFMap {
        try withObject { obj in
            guard let map = bpf_object__find_map_by_name(obj, name) else {
                throw BPFError(operation: "find map \(name)", code: ENOENT)
            }
            return BPFMap(name: name, fd: try BPFError.check(bpf_map__fd(map), "map fd \(name)"))
        }
    }

    /// Closes the object (programs stay alive only while a tc filter holds them).
    public func close() {
        lock.lock(); defer { lock.unlock() }
        if let obj = object { bpf_object__close(obj) }
        object = nil
    }
}
