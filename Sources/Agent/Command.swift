import Foundation

/// Runs an external tool (ip, nft, nsenter) with a bound on its run time.
public enum Command {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// Output goes through unlinked temporary files, not pipes, and the tool is started with
    /// posix_spawn and reaped with waitpid (Foundation's Process learns of an exit only when every
    /// holder of a descriptor it gives the child has closed it): a grandchild that keeps the tool's
    /// stdout open (a daemon it started) cannot make this wait, and a chatty tool cannot block on a
    /// full pipe. After `timeout` the tool gets SIGTERM, then SIGKILL a second later.
    @discardableResult
    public static func run(_ args: [String], input: String? = nil, timeout: TimeInterval = 30) throws -> Result {
        guard let tool = args.first else { throw AgentError("empty command") }
        let path = try resolve(tool)
        let out = try CapturedOutput(), err = try CapturedOutput()
        let stdin = try input.map { try CapturedOutput(contents: Data($0.utf8)) }
        let pid = try DetachedProcess.spawnAttached([path] + args.dropFirst(), stdin: stdin?.readFD,
                                                    stdout: out.writeFD, stderr: err.writeFD)
        let status = DetachedProcess.wait(pid, timeout: timeout)
        return Result(status: status, stdout: out.text(), stderr: err.text())
    }

    /// Runs and fails with the tool's own message when it exits non-zero.
    @discardableResult
    public static func check(_ args: [String], input: String? = nil, timeout: TimeInterval = 30) throws -> Result {
        let r = try run(args, input: input, timeout: timeout)
        guard r.status == 0 else {
            let msg = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw AgentError("`\(args.joined(separator: " "))` failed (exit \(r.status)): \(msg)")
        }
        return r
    }

    /// Finds a tool on PATH or the usual system directories (sudo's PATH may lack /usr/sbin).
    public static func resolve(_ tool: String) throws -> String {
        if tool.contains("/") { return tool }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
            let candidate = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw AgentError("\(tool) not found: install it (e.g. apt-get install iproute2 nftables util-linux)")
    }
}

/// A child's stdout, stderr or stdin: a temporary file, unlinked at once (the open descriptors keep it).
private final class CapturedOutput {
    let writeFD: Int32
    let readFD: Int32

    init(contents: Data? = nil) throws {
        var template = Array((NSTemporaryDirectory() + "nethealth-cmd-XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw AgentError("cannot create a temporary file: \(String(cString: strerror(errno)))") }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let reader = open(path, O_RDONLY | O_CLOEXEC)
        unlink(path)
        guard reader >= 0 else {
            close(fd)
            throw AgentError("cannot reopen a temporary file: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        writeFD = fd
        readFD = reader
        if let contents {
            let ok = contents.withUnsafeBytes { raw -> Bool in
                guard let base = raw.baseAddress else { return true }  // nothing to write
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, base.advanced(by: offset), raw.count - offset)
                    if n <= 0 { return false }
                    offset += n
                }
                return true
            }
            guard ok else { throw AgentError("cannot write a temporary file: \(String(cString: strerror(errno)))") }
        }
    }

    /// What the child wrote so far (a grandchild may still be writing; that is not waited for).
    func text() -> String {
        String(decoding: (try? FileHandle(fileDescriptor: readFD, closeOnDealloc: false).readToEnd()) ?? Data(), as: UTF8.self)
    }

    deinit {
        close(writeFD)
        close(readFD)
    }
}
