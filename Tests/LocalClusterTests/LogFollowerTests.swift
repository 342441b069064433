import Agent
import Foundation
import XCTest

/// `agent monitor` follows the drop log with LogFollower: live lines only, whole lines, across a
/// new run's truncation and across the file's removal.
final class LogFollowerTests: XCTestCase {
    private var dir = ""
    private var path: String { dir + "/drops.log" }

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "nethealth-follow-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    private func append(_ text: String) throws {
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        try h.write(contentsOf: Data(text.utf8))
        try h.close()
    }

    func testFollowsAppendsTruncationAndRemoval() throws {
        try Data("old 1\nold 2\n".utf8).write(to: URL(fileURLWithPath: path))
        var live = LogFollower(path: path, fromStart: false)
        var replay = LogFollower(path: path, fromStart: true)
        XCTAssertEqual(live.readLines(), [], "live: what was there before is not shown")
        XCTAssertEqual(replay.readLines(), ["old 1", "old 2"])

        try append("new 1\nnew 2 half")
        XCTAssertEqual(live.readLines(), ["new 1"], "a partial line waits for its newline")
        try append(" done\n")
        XCTAssertEqual(live.readLines(), ["new 2 half done"])

        // A new run truncates the log and writes less than before: start over at 0.
        try Data("run2 a\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(live.readLines(), ["run2 a"])

        try FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(live.readLines(), [])
        try Data("run3 a\nrun3 b\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(live.readLines(), ["run3 a", "run3 b"], "a re-created log is read from its start")
        XCTAssertEqual(live.readLines(), [])
    }

    func testMissingFileIsQuiet() {
        var f = LogFollower(path: dir + "/none.log", fromStart: false)
        XCTAssertEqual(f.readLines(), [])
    }
}
