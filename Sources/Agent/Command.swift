import Foundation

/// Runs an external tool (ip, nft, nsenter) with a bound on its run time.
public enum Command {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    @discardableResult
    public static func run(_ args: [String], input: String? = nil, timeout: TimeInterval = 30) throws -> Result {
        guard let tool = args.first else { throw AgentError("empty command") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try resolve(tool))
        process.arguments = Array(args.dropFirst())
        let out = Pipe(), err = Pipe(), inp = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input == nil ? FileHandle.nullDevice : inp
        do {
            try process.run()
        } catch {
            throw AgentError("cannot run \(tool): \(error)")
        }
        if let input {
            inp.fileHandleForWriting.write(Data(input.utf8))
            try? inp.fileHandleForWriting.close()
        }
        let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        // Drain stderr concurrently so a chatty tool cannot block on a full pipe.
        let errBox = DataBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.set(err.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        timer.cancel()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errBox.get(), as: UTF8.self))
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

private final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}
