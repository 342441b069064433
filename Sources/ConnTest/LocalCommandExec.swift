import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs probe commands as local processes: `prefix + command` (e.g. prefix
/// `["ip", "netns", "exec", "pod-x"]` for a namespace). stdout+stderr go to a
/// temp file rather than a pipe, so a grandchild holding the pipe open after a
/// timeout kill cannot block the read.
public struct LocalCommandExec: Sendable {
    public var prefix: [String]
    /// Keep only the tail of long outputs; the report shows one failure line.
    public var outputLimit: Int

    public init(prefix: [String] = [], outputLimit: Int = 4096) {
        self.prefix = prefix
        self.outputLimit = outputLimit
    }

    public var exec: ProbeExec {
        let this = self
        return { command, timeout in await this.run(command, timeout: timeout) }
    }

    public func run(_ command: [String], timeout: Duration) async -> ProbeExecResult {
        let argv = prefix + command
        guard !argv.isEmpty else { return ProbeExecResult(exitCode: 127, output: "empty command") }
        let outURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("probe-\(UUID().uuidString).out")
        guard FileManager.default.createFile(atPath: outURL.path, contents: nil),
              let out = try? FileHandle(forWritingTo: outURL) else {
            return ProbeExecResult(exitCode: 126, output: "cannot create probe output file")
        }
        defer {
            try? out.close()
            try? FileManager.default.removeItem(at: outURL)
        }
        let process = Process()
        // env resolves argv[0] on PATH, as the container runtime would.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        process.standardOutput = out
        process.standardError = out
        process.standardInput = FileHandle.nullDevice
        let exited = ResumeOnce<Int32>()
        process.terminationHandler = { p in exited.resume(with: p.terminationStatus) }
        do {
            try process.run()
        } catch {
            return ProbeExecResult(exitCode: 127, output: "exec \(argv[0]): \(error.localizedDescription)")
        }
        let pid = process.processIdentifier
        let timedOut = TimeoutFlag()
        let killer = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            timedOut.set()
            Self.killTree(pid)
        }
        let status = await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
                exited.install(c) {}
            }
        } onCancel: {
            Self.killTree(pid)
        }
        killer.cancel()
        let text = readTail(outURL)
        if timedOut.isSet {
            return ProbeExecResult(exitCode: status, output: "command timed out after \(timeout)" + (text.isEmpty ? "" : ": " + text),
                                   timedOut: true)
        }
        return ProbeExecResult(exitCode: status, output: text)
    }

    /// Foundation starts the child in its own process group on Linux, so the
    /// group kill also reaches `sh -c` grandchildren; the pid kill covers the rest.
    private static func killTree(_ pid: Int32) {
        guard pid > 0 else { return }
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
    }

    private func readTail(_ url: URL) -> String {
        guard let data = try? Data(contentsOf: url) else { return "" }
        let tail = data.count > outputLimit ? data.suffix(outputLimit) : data
        return String(decoding: tail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

private final class TimeoutFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
