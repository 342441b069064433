import Foundation

/// A process a test starts and lets run beside the code under test, with stdout and stderr in
/// files (pipes would fill and block it). `terminate()` is the safety net for a failing test.
final class BackgroundCommand {
    let process = Process()
    private let outPath: String
    private let errPath: String

    init(_ argv: [String], environment: [String: String] = [:]) throws {
        let base = NSTemporaryDirectory() + "nethealth-bg-\(getpid())-\(UUID().uuidString.prefix(8))"
        outPath = base + ".out"
        errPath = base + ".err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: argv.first.map { $0.hasPrefix("/") ? $0 : "/usr/bin/\($0)" } ?? "/bin/false")
        process.arguments = Array(argv.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
    }

    var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

    /// Polls stderr until it contains `text`, the process exits, or `seconds` pass.
    func waitForStderr(containing text: String, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            usleep(50_000)
        }
        return false
    }

    func signal(_ sig: Int32) {
        if process.isRunning { kill(process.processIdentifier, sig) }
    }

    /// SIGINT, then waits (SIGKILL after 10 s) and returns what the process printed.
    func interruptAndWait() -> (status: Int32, stdout: String, stderr: String) {
        signal(SIGINT)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        signal(SIGKILL)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    func terminate() {
        signal(SIGKILL)
        if process.isRunning { process.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }
}
