import Agent
import Foundation
import XCTest

/// Replays the fuzzer's seeds and every input that once broke a parser (bench/fuzz/regressions)
/// through the same entry point libFuzzer drives: none may crash or hang.
final class FuzzRegressionTests: XCTestCase {
    func testSavedInputsDoNotCrashTheParsers() throws {
        let bench = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("bench/fuzz")
        let r = try Command.run(["\(ClusterNaming.binDir)/fuzz-parsers", bench.appendingPathComponent("seeds").path,
                                 bench.appendingPathComponent("regressions").path], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("inputs replayed, no crash"), r.stdout)
    }
}
