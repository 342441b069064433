import Foundation
import XCTest
import Yams
@testable import ConnTest

enum TestPaths {
    /// Package root, found from this file so tests do not depend on the working directory.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixture = packageRoot.appendingPathComponent("Tests/ConnTestTests/Fixtures/connectivity-check.yaml")
    static let examples = packageRoot.appendingPathComponent("examples/connectivity-check")

    /// Upstream's file of that name, kept verbatim (Fixtures/README.md says where from).
    static func upstream(_ fileName: String) -> URL {
        packageRoot.appendingPathComponent("Tests/ConnTestTests/Fixtures/\(fileName)")
    }

    /// Directory holding the built executables (next to the test bundle).
    static var productsDirectory: URL {
        #if os(macOS)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        #endif
        return Bundle.main.bundleURL
    }
}

/// Parses a YAML stream with Yams into plain dictionaries/arrays.
func loadDocuments(_ text: String) throws -> [[String: Any]] {
    try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
}

func kindAndName(_ doc: [String: Any]) -> String {
    let kind = doc["kind"] as? String ?? "?"
    let name = (doc["metadata"] as? [String: Any])?["name"] as? String ?? "?"
    return "\(kind)/\(name)"
}

func dig(_ value: Any?, _ path: String...) -> Any? {
    var current = value
    for key in path { current = (current as? [String: Any])?[key] }
    return current
}
