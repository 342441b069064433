import Agent
import Foundation
import XCTest
@testable import ConnTest

/// `--junit-file` against cilium-cli itself: its own golden file, the facts of its encoder
/// (cilium-cli connectivity/internal/junit: Go encoding/xml, struct field order = attribute
/// order, float64 as strconv 'g'), and a JUnit consumer we did not write (junitparser).
final class JUnitConformanceTests: XCTestCase {
    static let timestamp = Date(timeIntervalSince1970: 1_781_697_600)  // 2026-06-17T12:00:00Z

    static let results: [CheckResult] = [
        CheckResult(name: "pod-to-a", component: "network-check", topology: "any", expect: .allow, outcome: .pass,
                    durationSeconds: 2.503017291),
        CheckResult(name: "pod-to-a-denied-cnp", component: "policy-check", topology: "any", expect: .deny, outcome: .fail,
                    reason: "not ready (readiness probe failed)", lastFailure: "exit 0: <\"&'>", durationSeconds: 7.25,
                    node: "node-2"),
        CheckResult(name: "pod-to-b-multi-node-clusterip", component: "services-check", topology: "multi-node",
                    expect: .allow, outcome: .pending, reason: "0/1 nodes: pod anti-affinity to echo-b"),
        CheckResult(name: "pod-to-external-1111", component: "network-check", topology: "any", expect: .allow,
                    outcome: .skipped, reason: "no external host"),
        CheckResult(name: "pod-to-b-intra-node-nodeport", component: "nodeport-check", topology: "intra-node",
                    expect: .allow, outcome: .pass, durationSeconds: 0.000042),
    ]

    /// cilium-cli's testdata/infrastructure-provisioning-failure.xml, rendered from the same facts.
    /// The file ends in a newline that Go's xml.Encoder does not write (the golden file is compared
    /// by shape upstream), so ours has none.
    func testMatchesCiliumCLIGoldenFile() throws {
        let golden = try String(contentsOf: Self.fixture("infrastructure-provisioning-failure.xml"), encoding: .utf8)
        let failed = CheckResult(name: "Infrastructure/Provisioning", component: "", topology: "any", expect: .allow,
                                 outcome: .fail,
                                 reason: "timeout reached waiting for deployment cilium-test-1/client to become ready (last error: pods not ready)")
        let ours = JUnitReport.render([failed], args: [], timestamp: Self.timestamp)
        XCTAssertEqual(ours + "\n", golden)
    }

    /// Attribute sets and order per element, from cilium-cli's junit structs (omitempty ones only when set).
    func testEncoderFacts() throws {
        let xml = JUnitReport.render(Self.results, args: ["--nodes", "3"], timestamp: Self.timestamp)
        XCTAssertTrue(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n  <testsuites "), "xml.Header, then prefix \"  \"")
        XCTAssertFalse(xml.hasSuffix("\n"), "Go's encoder writes no trailing newline")
        let expected: [String: [[String]]] = [
            "testsuites": [["tests", "disabled", "errors", "failures", "time"]],
            "testsuite": [["name", "id", "package", "tests", "errors", "failures", "skipped", "time", "timestamp"]],
            "property": [["name", "value"]],
            "testcase": Array(repeating: ["name", "classname", "status", "time"], count: 5),
            "skipped": [["message"], ["message"]],
            "failure": [["message", "type"]],
        ]
        for (element, attributeLists) in expected {
            XCTAssertEqual(Self.attributeNames(of: element, in: xml), attributeLists, element)
        }
        XCTAssertEqual(Self.attribute("timestamp", in: xml), ["2026-06-17T12:00:00Z"])
        // strconv.FormatFloat(f, 'g', -1, 64): shortest digits, exponent below 1e-4; the suite
        // sums every test's time, as cilium-cli adds before zeroing a skipped one's.
        XCTAssertEqual(Self.attribute("time", in: xml), ["9.753059291", "9.753059291", "2.503017291", "7.25", "0", "0", "4.2e-05"])
        XCTAssertEqual(JUnitReport.goFloat(1_234_567), "1.234567e+06")
        XCTAssertEqual(JUnitReport.goFloat(0.0001), "0.0001")
        XCTAssertEqual(JUnitReport.goFloat(120), "120")
    }

    /// junitparser reads what we write the way CI dashboards will: counts, statuses, messages, times.
    func testJUnitParserReadsTheReport() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/junit.xml"
        try JUnitReport.write(Self.results, args: ["--nodes", "3"], timestamp: Self.timestamp, to: path)
        let seen = try Self.junitparser(path)
        XCTAssertEqual(seen.tag, "testsuites")
        XCTAssertEqual(seen.tests, 5)
        XCTAssertEqual(seen.failures, 1)
        XCTAssertEqual(seen.errors, 0)
        XCTAssertEqual(seen.time, 9.753059291, accuracy: 1e-9)
        XCTAssertEqual(seen.attributes["disabled"], "2")
        let suite = try XCTUnwrap(seen.suites.first)
        XCTAssertEqual(seen.suites.count, 1)
        XCTAssertEqual(suite.name, "connectivity test")
        XCTAssertEqual(suite.attributes["package"], "cilium")
        XCTAssertEqual(suite.timestamp, "2026-06-17T12:00:00Z")
        XCTAssertEqual(suite.properties, [["Args", "--nodes|3"]])
        XCTAssertEqual(suite.written, suite.recounted, "the counts written agree with the test cases")
        XCTAssertEqual(suite.written, .init(tests: 5, failures: 1, errors: 0, skipped: 2))
        XCTAssertEqual(suite.cases.map(\.name), Self.results.map(\.name))
        XCTAssertTrue(suite.cases.allSatisfy { $0.classname == "connectivity test" })
        XCTAssertEqual(suite.cases.map(\.passed), [true, false, false, false, true])
        XCTAssertEqual(suite.cases.map(\.skipped), [false, false, true, true, false])
        XCTAssertEqual(suite.cases.map { $0.attributes["status"] }, ["passed", "failed", "skipped", "skipped", "passed"])
        XCTAssertEqual(suite.cases.map(\.time), [2.503017291, 7.25, 0, 0, 0.000042])
        let failure = try XCTUnwrap(suite.cases[1].results.first)
        XCTAssertEqual(failure, .init(kind: "failure", message: "pod-to-a-denied-cnp failed", type: "failure",
                                      text: "not ready (readiness probe failed)\nlast probe failure: exit 0: <\"&'>\nnode: node-2"))
        XCTAssertEqual(suite.cases[3].results, [.init(kind: "skipped", message: "pod-to-external-1111 skipped", type: nil, text: nil)])
    }

    // MARK: helpers

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func fixture(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    }

    /// Attribute names, in order, of every `<element …>` start tag.
    static func attributeNames(of element: String, in xml: String) -> [[String]] {
        let tags = xml.components(separatedBy: "<\(element) ").dropFirst().map { $0.prefix { $0 != ">" } }
        return tags.map { tag in
            tag.split(separator: "\"", omittingEmptySubsequences: false).enumerated()
                .filter { $0.offset % 2 == 0 }
                .compactMap { part -> String? in
                    let name = part.element.trimmingCharacters(in: .whitespaces).dropLast()  // the '='
                    return name.isEmpty ? nil : String(name)
                }
        }
    }

    static func attribute(_ name: String, in xml: String) -> [String] {
        xml.components(separatedBy: " \(name)=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }

    struct Seen: Decodable {
        struct Counts: Decodable, Equatable { var tests, failures, errors, skipped: Int }
        struct Result: Decodable, Equatable { var kind: String; var message: String?; var type: String?; var text: String? }
        struct Case: Decodable { var name: String; var classname: String; var time: Double; var attributes: [String: String]
                                 var passed: Bool; var skipped: Bool; var results: [Result] }
        struct Suite: Decodable { var name: String; var attributes: [String: String]; var timestamp: String?
                                  var written: Counts; var recounted: Counts; var properties: [[String]]; var cases: [Case] }
        var tag: String
        var attributes: [String: String]
        var tests, failures, errors: Int
        var time: Double
        var suites: [Suite]
    }

    static func junitparser(_ path: String) throws -> Seen {
        let script = packageRoot.appendingPathComponent("scripts/validate/junit-read.py").path
        let r = try Command.run(["python3", script, path], timeout: 60)
        guard r.status == 0 else {
            throw AgentError("junitparser could not read \(path) (exit \(r.status)): \(r.stderr) — run scripts/install-deps.sh")
        }
        return try JSONDecoder().decode(Seen.self, from: Data(r.stdout.utf8))
    }
}
