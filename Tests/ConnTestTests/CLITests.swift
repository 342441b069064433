import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Runs the real `conntest` binary.
final class CLITests: XCTestCase {
    struct Result { let status: Int32; let stdout: String; let stderr: String }

    func run(_ arguments: [String], timeout: TimeInterval = 60) throws -> Result {
        let binary = TestPaths.productsDirectory.appendingPathComponent("conntest")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: binary.path])
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // A hung child would keep the pipes open forever: kill it after `timeout`.
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        defer { watchdog.cancel() }
        // Read before waiting so a large output cannot block the child on a full pipe.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal { XCTFail("conntest \(arguments) timed out or crashed") }
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// A fresh directory, removed when the test ends.
    func scratchDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("conntest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func assertOneLineError(_ result: Result, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 2, "stderr: \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "not one line: \(result.stderr)", file: file, line: line)
        for word in mentions { XCTAssertTrue(result.stderr.contains(word), "missing \(word) in \(result.stderr)", file: file, line: line) }
        XCTAssertEqual(result.stdout, "", file: file, line: line)
    }

    func testDefaultOutputMatchesFixture() throws {
        let result = try run(["generate"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stdout, try String(contentsOf: TestPaths.fixture, encoding: .utf8))
    }

    func testBadTagKeyAndValue() throws {
        assertOneLineError(try run(["generate", "-t", "colour=red"]), mentions: ["colour", "component|kind|name|quarantine|topology|traffic|type"])
        assertOneLineError(try run(["generate", "-t", "component=everything"]),
                           mentions: ["all|default|network|policy|services|hostport|proxy"])
        assertOneLineError(try run(["ls", "-t", "traffic=outbound"]), mentions: ["any|internal|external"])
    }

    func testBadOptions() throws {
        assertOneLineError(try run(["generate", "-o", "xml"]), mentions: ["yaml", "json"])
        assertOneLineError(try run(["generate", "--no-such-flag"]), mentions: ["--no-such-flag"])
        assertOneLineError(try run(["generate", "--node-port", "80"]), mentions: ["30000-32767"])
        assertOneLineError(try run(["generate", "--variant", "nope"]), mentions: ["default|internal|single-node"])
        assertOneLineError(try run(["generate", "--node-port", "abc"]), mentions: ["abc"])
    }

    func testOutputFileUntouchedOnError() throws {
        let dir = try scratchDirectory()
        let existing = dir.appendingPathComponent("existing.yaml")
        try Data("keep me\n".utf8).write(to: existing)
        assertOneLineError(try run(["generate", "-t", "bad=1", "--output-file", existing.path]), mentions: ["bad"])
        XCTAssertEqual(try String(contentsOf: existing, encoding: .utf8), "keep me\n")
        let absent = dir.appendingPathComponent("absent.yaml")
        assertOneLineError(try run(["generate", "--external-ip", "nope", "--output-file", absent.path]), mentions: ["IPv4"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: absent.path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["existing.yaml"], "no temp files left")

        let ok = try run(["generate", "--variant", "proxy", "--output-file", existing.path])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(try String(contentsOf: existing, encoding: .utf8), try String(
            contentsOf: TestPaths.examples.appendingPathComponent("connectivity-check-proxy.yaml"), encoding: .utf8))
    }

    func testExamplesCommandWritesEveryVariant() throws {
        let dir = try scratchDirectory()
        let result = try run(["examples", "--output-dir", dir.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        for name in try FileManager.default.contentsOfDirectory(atPath: TestPaths.examples.path) where name.hasSuffix(".yaml") {
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent(name)),
                           try Data(contentsOf: TestPaths.examples.appendingPathComponent(name)), name)
        }
    }

    func testLsAndJSON() throws {
        let ls = try run(["ls", "-t", "component=proxy", "-t", "kind=Service"])
        XCTAssertEqual(ls.status, 0)
        XCTAssertEqual(ls.stdout.split(separator: "\n").map { $0.split(separator: " ").last.map(String.init) ?? "" },
                       ["NAME", "echo-c", "echo-c-headless", "echo-c-host-headless"])
        let json = try run(["generate", "-o", "json", "--namespace", "ns1"])
        XCTAssertEqual(json.status, 0)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertEqual((object?["items"] as? [Any])?.count, 21)
    }

    /// A filter that matches nothing is a typo, not an empty manifest to apply (that would pass).
    func testFilterMatchingNothingIsAUsageError() throws {
        assertOneLineError(try run(["generate", "-t", "name=does-not-exist"]), mentions: ["-t name=does-not-exist", "conntest ls"])
        assertOneLineError(try run(["ls", "-t", "name=does-not-exist"]), mentions: ["-t name=does-not-exist"])
    }

    func testUnwritableOutputPathsAreNamed() throws {
        let dir = try scratchDirectory()
        let file = dir.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        assertOneLineError(try run(["examples", "--output-dir", file.path]), mentions: ["--output-dir '\(file.path)': not a directory"])
        assertOneLineError(try run(["examples", "--output-dir", dir.path + "/missing"]), mentions: ["no such directory"])
        assertOneLineError(try run(["generate", "--output-file", dir.path]), mentions: ["--output-file '\(dir.path)': is a directory"])
        assertOneLineError(try run(["generate", "--output-file", dir.path + "/missing/x.yaml"]),
                           mentions: ["cannot create a file in '\(dir.path)/missing': no such file or directory"])
        for r in [try run(["examples", "--output-dir", file.path]), try run(["generate", "--output-file", dir.path])] {
            XCTAssertFalse(r.stderr.contains("NSCocoaErrorDomain"), r.stderr)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["a-file"], "nothing left behind")
    }

    func testHelpExitsZeroAndDocumentsTags() throws {
        let help = try run(["generate", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("component=all|default|network|policy|services|hostport|proxy|health"))
        XCTAssertTrue(help.stdout.contains("--image-repo"))
    }
}
