import Foundation
import XCTest
@testable import ConnTest

/// Every variant, generated from the model, byte for byte against upstream's file of the same
/// name in cilium/cilium examples/kubernetes/connectivity-check/ (Fixtures/, see its README.md).
final class UpstreamVariantTests: XCTestCase {
    func assertUpstream(_ variant: Variant, bytes: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let upstream = try Data(contentsOf: TestPaths.upstream(variant.fileName))
        let generated = Data(try variant.render().utf8)
        XCTAssertEqual(upstream.count, bytes, "fixture \(variant.fileName) changed", file: file, line: line)
        guard generated != upstream else { return }
        let a = String(decoding: generated, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let b = String(decoding: upstream, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let index = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
        XCTFail("\(variant.fileName) differs from upstream at line \(index + 1): generated "
                + "\(index < a.count ? "\"\(a[index])\"" : "EOF") vs upstream \(index < b.count ? "\"\(b[index])\"" : "EOF") "
                + "(\(generated.count) vs \(upstream.count) bytes)", file: file, line: line)
    }

    func testDefault() throws { try assertUpstream(.default, bytes: 24_472) }
    func testInternal() throws { try assertUpstream(.internal, bytes: 20_781) }
    func testSingleNode() throws { try assertUpstream(.singleNode, bytes: 16_101) }
    func testHostport() throws { try assertUpstream(.hostport, bytes: 49_456) }
    func testProxy() throws { try assertUpstream(.proxy, bytes: 30_377) }
    func testQuarantine() throws { try assertUpstream(.quarantine, bytes: 26_429) }
    func testDebugTools() throws { try assertUpstream(.debugTools, bytes: 1_926) }
    func testNetpolOnly() throws { try assertUpstream(.netpolOnly, bytes: 30_773) }
    func testIPv6() throws { try assertUpstream(.ipv6, bytes: 36_386) }

    func testEveryVariantHasAnUpstreamFixture() {
        for variant in Variant.allCases {
            XCTAssertTrue(FileManager.default.fileExists(atPath: TestPaths.upstream(variant.fileName).path), variant.fileName)
        }
    }
}
