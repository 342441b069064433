import Foundation
import XCTest
@testable import ConnTest

final class DefaultOutputTests: XCTestCase {
    func testDefaultOutputIsByteIdenticalToUpstream() throws {
        let expected = try String(contentsOf: TestPaths.fixture, encoding: .utf8)
        let generated = try Variant.default.render()
        XCTAssertEqual(generated.utf8.count, 24_472)
        if generated != expected {
            let a = generated.split(separator: "\n", omittingEmptySubsequences: false)
            let b = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let line = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
            XCTFail("first difference at line \(line + 1)")
        }
    }

    func testDefaultTagsEqualDefaultVariant() throws {
        let viaTags = ManifestRenderer.generatedHeader
            + ManifestRenderer.dump(try TagSelection.parse([]).filter(ConnectivitySuite.resources()))
        XCTAssertEqual(viaTags, try Variant.default.render())
    }

    func testDefaultHas21DocumentsInUpstreamOrder() throws {
        let docs = try loadDocuments(try Variant.default.render())
        XCTAssertEqual(docs.count, 21)
        XCTAssertEqual(docs.map(kindAndName), try loadDocuments(String(contentsOf: TestPaths.fixture, encoding: .utf8)).map(kindAndName))
    }
}
