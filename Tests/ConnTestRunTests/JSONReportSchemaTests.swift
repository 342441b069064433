import Agent
import Foundation
import XCTest
@testable import ConnTest

/// `-o json` is documented by schemas/conntest-report.schema.json; a validator we did not write
/// (python `jsonschema`, Draft 2020-12) checks reports against it, and the schema must name every
/// key the report can carry, so neither can drift without this failing.
final class JSONReportSchemaTests: XCTestCase {
    static let schema = JUnitConformanceTests.packageRoot.appendingPathComponent("schemas/conntest-report.schema.json").path

    /// Every optional key set somewhere: reason, readySeconds, lastFailure, drops.
    static var fullReport: String {
        var results = JUnitConformanceTests.results
        results[0].readySeconds = 1.2345
        results[0].drops = 0
        results[1].drops = 3
        results[1].restarts = 2
        return JSONReport.render(results, summary: RunSummary(results: results, durationSeconds: 12.5))
    }

    func testReportsValidate() throws {
        XCTAssertEqual(try Self.validate(Self.fullReport), [])
        let unsettled = [CheckResult(name: "pod-to-a", component: "network-check", topology: "any", expect: .allow,
                                     outcome: .fail, settled: false)]
        XCTAssertEqual(try Self.validate(JSONReport.render(unsettled, summary: RunSummary(results: unsettled))), [])
        XCTAssertEqual(try Self.validate(JSONReport.render([], summary: RunSummary(results: []))), [])
    }

    func testSchemaNamesExactlyTheKeysReportsCarry() throws {
        let schema = try Self.object(String(contentsOfFile: Self.schema, encoding: .utf8))
        let defs = try XCTUnwrap(schema["$defs"] as? [String: Any])
        func properties(_ def: [String: Any]?) -> Set<String> { Set(((def?["properties"] as? [String: Any]) ?? [:]).keys) }
        let report = try Self.object(Self.fullReport)
        let checks = try XCTUnwrap(report["checks"] as? [[String: Any]])
        XCTAssertEqual(properties(schema), Set(report.keys))
        XCTAssertEqual(properties(defs["check"] as? [String: Any]), Set(checks.flatMap(\.keys)))
        // inconclusiveReason appears only on an inconclusive run: here, one in which no check ran.
        let empty = try Self.object(JSONReport.render([], summary: RunSummary(results: [])))
        let summaryKeys = [report, empty].flatMap { (($0["summary"] as? [String: Any]) ?? [:]).keys }
        XCTAssertEqual(properties(defs["summary"] as? [String: Any]), Set(summaryKeys))
    }

    /// One drifted key, type or value each, and the validator says so.
    func testDriftIsRejected() throws {
        let mutations: [(String, (inout [String: Any]) -> Void)] = [
            ("extra top-level key", { $0["version"] = 1 }),
            ("missing summary", { $0["summary"] = nil }),
            ("exit code out of range", { $0["exitCode"] = 4 }),
            ("renamed check key", { r in Self.editCheck(&r) { $0["status"] = $0["result"]; $0["result"] = nil } }),
            ("unknown result", { r in Self.editCheck(&r) { $0["result"] = "passed" } }),
            ("null instead of omitted", { r in Self.editCheck(&r) { $0["reason"] = NSNull() } }),
            ("restarts as string", { r in Self.editCheck(&r) { $0["restarts"] = "0" } }),
            ("summary count missing", { r in
                var s = r["summary"] as? [String: Any] ?? [:]
                s["unsettled"] = nil
                r["summary"] = s
            }),
        ]
        for (label, mutate) in mutations {
            var report = try Self.object(Self.fullReport)
            mutate(&report)
            let text = String(decoding: try JSONSerialization.data(withJSONObject: report), as: UTF8.self)
            XCTAssertNotEqual(try Self.validate(text), [], label)
        }
    }

    // MARK: helpers

    static func editCheck(_ report: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var checks = report["checks"] as? [[String: Any]] ?? []
        edit(&checks[0])
        report["checks"] = checks
    }

    static func object(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// The validator's error lines; empty when the document is valid.
    static func validate(_ json: String) throws -> [String] {
        let script = JUnitConformanceTests.packageRoot.appendingPathComponent("scripts/validate/json-schema.py").path
        let r = try Command.run(["python3", script, schema, "-"], input: json, timeout: 60)
        switch r.status {
        case 0: return []
        case 1: return r.stdout.split(separator: "\n").map(String.init)
        default: throw AgentError("json-schema.py failed (exit \(r.status)): \(r.stderr) — run scripts/install-deps.sh")
        }
    }
}
