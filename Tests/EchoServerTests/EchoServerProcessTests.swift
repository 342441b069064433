import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Spawns the real `echo-server` binary; the process is killed in every exit path.
final class EchoServerProcessTests: XCTestCase {
    var binary: URL {
        #if os(macOS)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("echo-server")
        }
        #endif
        return Bundle.main.bundleURL.appendingPathComponent("echo-server")
    }

    /// Starts the server and returns it with the port it reported, waiting at most `timeout`.
    func launch(_ arguments: [String], environment: [String: String]? = nil, timeout: TimeInterval = 20) throws -> (Process, Int, Pipe) {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw LaunchFailure(description: "echo-server not built at \(binary.path)")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = LineReader(handle: out.fileHandleForReading)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = reader.line(), line.hasPrefix("echo-server listening on"),
               let port = line.split(separator: " ").last.flatMap({ Int($0) }) {
                return (process, port, out)
            }
            if !process.isRunning { break }
            usleep(20_000)
        }
        process.terminate()
        throw LaunchFailure(description: "echo-server did not report a port within \(timeout) s")
    }

    func get(_ url: String) -> (Int, String)? {
        // URLSession is not used: a tiny blocking HTTP/1.0 request keeps the test self-contained.
        guard let components = URLComponents(string: url), let port = components.port else { return nil }
        guard let fd = try? RawLoopbackClient.connect(port: port) else { return nil }
        defer { close(fd) }
        let request = Array("GET \(components.path) HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        let status = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (status, body)
    }

    func waitForExit(_ process: Process, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    func testSIGTERMExitsCleanly() throws {
        let (process, port, _) = try launch(["--address", "127.0.0.1", "--port", "0"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        let response = get("http://127.0.0.1:\(port)/public")
        XCTAssertEqual(response?.0, 200)
        XCTAssertTrue(response?.1.contains("public information") ?? false)
        let started = Date()
        kill(process.processIdentifier, SIGTERM)
        XCTAssertTrue(waitForExit(process, timeout: 15), "no exit within 15 s of SIGTERM")
        guard !process.isRunning else { return }
        print("echo-server: exited \(String(format: "%.2f", Date().timeIntervalSince(started))) s after SIGTERM")
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0)
    }

    func testPortFromEnvironmentAndIPv6Address() throws {
        // Ask the kernel for a free port, release it, and hand it to the server through $PORT.
        let probe = try RawLoopbackClient.freePort()
        var environment = ProcessInfo.processInfo.environment
        environment["PORT"] = String(probe)
        let (process, port, _) = try launch(["--address", "::1"], environment: environment)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        XCTAssertEqual(port, probe)
        kill(process.processIdentifier, SIGINT)
        XCTAssertTrue(waitForExit(process, timeout: 15))
        XCTAssertEqual(process.terminationStatus, 0)
    }

    /// Runs echo-server to its exit (it must exit on its own within 15 s) and returns status and stderr.
    func runToExit(_ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, stderr: String) {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { throw LaunchFailure(description: "echo-server not built at \(binary.path)") }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let environment { process.environment = environment }
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        XCTAssertTrue(waitForExit(process, timeout: 15), "\(arguments) did not exit")
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, text)
    }

    func testInvalidPortIsRejected() throws {
        let r = try runToExit(["--port", "70000"])
        XCTAssertEqual(r.status, 2, "usage errors exit 2 across the project's tools")
        let negative = try runToExit(["--port", "-5"])
        XCTAssertEqual(negative.status, 2)
        XCTAssertTrue(negative.stderr.contains("invalid --port -5: must be in 0-65535"), negative.stderr)
    }

    /// A bad $PORT is an error naming the value, never a silent fallback to port 80.
    func testInvalidPortEnvironmentIsRejected() throws {
        for value in ["abc", "70000", "", "-1"] {
            var environment = ProcessInfo.processInfo.environment
            environment["PORT"] = value
            let r = try runToExit(["--address", "127.0.0.1"], environment: environment)
            XCTAssertEqual(r.status, 2, "PORT=\(value): \(r.stderr)")
            XCTAssertEqual(r.stderr, "Error: invalid $PORT '\(value)': must be a port number in 0-65535\n", "PORT=\(value)")
        }
    }

    /// 192.0.2.1 (TEST-NET-1) is on no interface here, so bind fails; nothing is sent anywhere.
    func testUnbindableAddressIsNamed() throws {
        let r = try runToExit(["--address", "192.0.2.1", "--port", "0"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.hasSuffix("Error: cannot listen on 192.0.2.1 port 0: cannot assign requested address\n"), r.stderr)
        XCTAssertFalse(r.stderr.contains("errno"), r.stderr)
    }
}

/// A server that did not start is a failure, never a skip.
struct LaunchFailure: Error, CustomStringConvertible {
    let description: String
}

/// Non-blocking line reader over a pipe (availableData would block on an idle pipe).
final class LineReader {
    private let fd: Int32
    private var pending = ""

    init(handle: FileHandle) {
        fd = handle.fileDescriptor
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    func line() -> String? {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 { pending += String(decoding: buffer[0..<n], as: UTF8.self) }
        guard let newline = pending.firstIndex(of: "\n") else { return nil }
        let line = String(pending[..<newline])
        pending = String(pending[pending.index(after: newline)...])
        return line
    }
}

extension RawLoopbackClient {
    static func freePort() throws -> Int {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EAFNOSUPPORT) }
        defer { close(fd) }
        var addr = sockaddr_in6()
        addr.sin6_family = sa_family_t(AF_INET6)
        addr.sin6_addr = in6addr_loopback
        addr.sin6_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { ptr -> Int32 in
                guard bind(fd, ptr, len) == 0 else { return -1 }
                return getsockname(fd, ptr, &len)
            }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: addr.sin6_port))
    }
}
