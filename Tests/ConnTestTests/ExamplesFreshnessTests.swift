import Foundation
import XCTest
@testable import ConnTest

/// Fails when examples/connectivity-check is stale.
/// Refresh with: swift run conntest examples --output-dir examples/connectivity-check
final class ExamplesFreshnessTests: XCTestCase {
    func testCommittedExamplesMatchTheGenerator() throws {
        for variant in Variant.allCases {
            let url = TestPaths.examples.appendingPathComponent(variant.fileName)
            let committed = try? String(contentsOf: url, encoding: .utf8)
            XCTAssertNotNil(committed, "missing \(url.path)")
            XCTAssertTrue(committed == (try variant.render()),
                          "\(variant.fileName) is stale; run: swift run conntest examples --output-dir examples/connectivity-check")
        }
    }

    func testNoUnexpectedFilesInExamples() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: TestPaths.examples.path)
            .filter { $0.hasSuffix(".yaml") }
        XCTAssertEqual(Set(files), Set(Variant.allCases.map(\.fileName)))
    }

    func testDefaultExampleIsTheUpstreamFile() throws {
        XCTAssertEqual(try Data(contentsOf: TestPaths.examples.appendingPathComponent("connectivity-check.yaml")),
                       try Data(contentsOf: TestPaths.fixture))
    }
}
