import XCTest
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import ConnTest

final class ReportTests: XCTestCase {
    static let results: [CheckResult] = [
        CheckResult(name: "pod-to-a", component: "network-check", topology: "any", expect: .allow, outcome: .pass,
                    readySeconds: 1.234, durationSeconds: 2.5, node: "node-1"),
        CheckResult(name: "pod-to-a-denied-cnp", component: "policy-check", topology: "any", expect: .deny, outcome: .fail,
                    reason: "not ready (readiness probe failed)", lastFailure: "readiness: exit 1: <\"&'>\u{1b}[0m",
                    durationSeconds: 3, node: "node-2"),
        CheckResult(name: "pod-to-b-multi-node-clusterip", component: "services-check", topology: "multi-node", expect: .allow,
                    outcome: .pending, reason: "0/1 nodes: pod anti-affinity to echo-b"),
        CheckResult(name: "pod-to-external-1111", component: "network-check", topology: "any", expect: .allow,
                    outcome: .skipped, reason: "no external host"),
    ]

    func testConsoleGolden() {
        let summary = RunSummary(results: Self.results)
        let expected = """
        NAME                           COMPONENT       TOPOLOGY    EXPECT  RESULT   READY-IN  RESTARTS
        pod-to-a                       network-check   any         allow   pass     1.2s      0
        pod-to-a-denied-cnp            policy-check    any         deny    fail     -         0
        pod-to-b-multi-node-clusterip  services-check  multi-node  allow   pending  -         0
        pod-to-external-1111           network-check   any         allow   skipped  -         0

          ↳ pod-to-a-denied-cnp: not ready (readiness probe failed); readiness: exit 1: <"&'>\u{1b}[0m
          ↳ pod-to-b-multi-node-clusterip: 0/1 nodes: pod anti-affinity to echo-b
          ↳ pod-to-external-1111: no external host

        ❌ 1/2 checks failed, 1 pending, 1 skipped

        """
        XCTAssertEqual(ConsoleReport.render(Self.results, summary: summary), expected)
    }

    func testSummaryLines() {
        func line(_ outcomes: [CheckOutcome], settled: Bool = true) -> String {
            let rs = outcomes.enumerated().map { i, o in
                CheckResult(name: "c\(i)", component: "x", topology: "any", expect: .allow, outcome: o, settled: settled)
            }
            return ConsoleReport.summaryLine(RunSummary(results: rs), timeoutSeconds: 120)
        }
        XCTAssertEqual(line(Array(repeating: .pass, count: 11)), "✅ 11/11 checks passed")
        XCTAssertEqual(line([.pass, .pass, .pending, .skipped, .skipped]), "✅ 2/2 checks passed, 1 pending, 2 skipped")
        XCTAssertEqual(line([.pass, .fail, .fail, .pending]), "❌ 2/3 checks failed, 1 pending")
        XCTAssertEqual(line([.pass, .fail], settled: false), "⌛ inconclusive: 2/2 checks not settled after 120.0s, 1 passed")
        XCTAssertEqual(line([.skipped]), "⌛ inconclusive: no check ran, 1 skipped")
        XCTAssertEqual(line([]), "⌛ inconclusive: no check ran (the selection matched no check)")
    }

    func testProgressLine() {
        let p = RunProgress(elapsedSeconds: 12, total: 11, ready: 7, failing: 1, waiting: 2, pending: 1, skipped: 0)
        XCTAssertEqual(ConsoleReport.progressLine(p), "⌛ [12.0s] 7/11 ready, 1 failing, 2 waiting, 1 pending")
    }

    func testJSONShape() throws {
        let text = JSONReport.render(Self.results, summary: RunSummary(results: Self.results, durationSeconds: 4))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(Set(root.keys), ["checks", "summary", "exitCode"])
        XCTAssertEqual(root["exitCode"] as? Int, 1)
        let checks = try XCTUnwrap(root["checks"] as? [[String: Any]])
        XCTAssertEqual(checks.count, 4)
        XCTAssertEqual(Set(checks[0].keys), ["name", "component", "topology", "expect", "result", "readySeconds", "restarts"])
        XCTAssertEqual(checks[0]["readySeconds"] as? Double, 1.234)
        XCTAssertEqual(Set(checks[1].keys), ["name", "component", "topology", "expect", "result", "reason", "restarts", "lastFailure"])
        XCTAssertEqual(checks[1]["expect"] as? String, "deny")
        XCTAssertEqual(checks[1]["lastFailure"] as? String, "readiness: exit 1: <\"&'>\u{1b}[0m")
        XCTAssertEqual(checks[2]["result"] as? String, "pending")
        XCTAssertEqual(checks[3]["reason"] as? String, "no external host")
        let summary = try XCTUnwrap(root["summary"] as? [String: Any])
        XCTAssertEqual(summary["passed"] as? Int, 1)
        XCTAssertEqual(summary["failed"] as? Int, 1)
        XCTAssertEqual(summary["inconclusive"] as? Bool, false)
        // Key order is part of the contract.
        XCTAssertTrue(text.hasPrefix("{\n  \"checks\": [\n    {\n      \"name\": \"pod-to-a\",\n      \"component\""))
    }

    func testJUnitLayoutMatchesCiliumCLI() {
        let date = Date(timeIntervalSince1970: 1_781_697_600) // 2026-06-17T12:00:00Z
        let xml = JUnitReport.render(Array(Self.results.prefix(1)), args: ["--nodes", "3"], timestamp: date)
        XCTAssertEqual(xml, """
        <?xml version="1.0" encoding="UTF-8"?>
          <testsuites tests="1" disabled="0" errors="0" failures="0" time="2.5">
              <testsuite name="connectivity test" id="0" package="cilium" tests="1" errors="0" failures="0" time="2.5" timestamp="2026-06-17T12:00:00Z">
                  <properties>
                      <property name="Args" value="--nodes|3"></property>
                  </properties>
                  <testcase name="pod-to-a" classname="connectivity test" status="passed" time="2.5"></testcase>
              </testsuite>
          </testsuites>
        """)
    }

    func testJUnitPropertiesFollowArgs() throws {
        let xml = JUnitReport.render(Array(Self.results.prefix(1)), args: [], timestamp: Date(),
                                     properties: [("owner", "sig-net"), ("build", "a=b&<c>")])
        let lines = xml.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let props = lines.filter { $0.hasPrefix("<property ") }
        XCTAssertEqual(props, [
            #"<property name="Args" value=""></property>"#,
            #"<property name="owner" value="sig-net"></property>"#,
            #"<property name="build" value="a=b&amp;&lt;c&gt;"></property>"#,
        ])
        XCTAssertEqual(try JUnitProperty(parsing: "k=v=w"), try JUnitProperty(parsing: "k=v=w"))
        XCTAssertEqual(try JUnitProperty(parsing: "k=v=w").value, "v=w")
        XCTAssertEqual(try JUnitProperty(parsing: "k=").value, "")
        XCTAssertThrowsError(try JUnitProperty(parsing: "=v"))
        XCTAssertThrowsError(try JUnitProperty(parsing: "novalue"))
    }

    func testJUnitParsesWithTheExpectedShape() throws {
        let xml = JUnitReport.render(Self.results, args: ["a&b", "<c>"], timestamp: Date())
        let doc = try XMLDocument(data: Data(xml.utf8), options: [])
        let root = try XCTUnwrap(doc.rootElement())
        XCTAssertEqual(root.name, "testsuites")
        func attr(_ e: XMLElement, _ n: String) -> String? { e.attribute(forName: n)?.stringValue }
        XCTAssertEqual(attr(root, "tests"), "4")
        XCTAssertEqual(attr(root, "disabled"), "2")
        XCTAssertEqual(attr(root, "errors"), "0")
        XCTAssertEqual(attr(root, "failures"), "1")
        XCTAssertEqual(attr(root, "time"), "5.5")
        let suites = root.elements(forName: "testsuite")
        XCTAssertEqual(suites.count, 1)
        let suite = try XCTUnwrap(suites.first)
        XCTAssertEqual(attr(suite, "name"), "connectivity test")
        XCTAssertEqual(attr(suite, "package"), "cilium")
        XCTAssertEqual(attr(suite, "tests"), "4")
        XCTAssertEqual(attr(suite, "failures"), "1")
        XCTAssertEqual(attr(suite, "skipped"), "2")
        XCTAssertNotNil(attr(suite, "timestamp"))
        let property = try XCTUnwrap(suite.elements(forName: "properties").first?.elements(forName: "property").first)
        XCTAssertEqual(attr(property, "name"), "Args")
        XCTAssertEqual(attr(property, "value"), "a&b|<c>")
        let cases = suite.elements(forName: "testcase")
        XCTAssertEqual(cases.map { attr($0, "status") }, ["passed", "failed", "skipped", "skipped"])
        XCTAssertTrue(cases.allSatisfy { attr($0, "classname") == "connectivity test" })
        let failure = try XCTUnwrap(cases[1].elements(forName: "failure").first)
        XCTAssertEqual(attr(failure, "message"), "pod-to-a-denied-cnp failed")
        XCTAssertEqual(attr(failure, "type"), "failure")
        // Escaped and decoded back; the ESC control character became U+FFFD.
        XCTAssertEqual(failure.stringValue, "not ready (readiness probe failed)\nlast probe failure: readiness: exit 1: <\"&'>\u{FFFD}[0m\nnode: node-2")
        let skipped = try XCTUnwrap(cases[3].elements(forName: "skipped").first)
        XCTAssertEqual(attr(skipped, "message"), "pod-to-external-1111 skipped")
        XCTAssertEqual(attr(cases[3], "time"), "0")
    }

    func testJUnitWriteIsAtomicWith0644() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path + "/junit.xml"
        let old = umask(0o077)
        defer { umask(old) }
        try JUnitReport.write(Self.results, args: [], timestamp: Date(), to: path)
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attrs[.posixPermissions] as? NSNumber)?.intValue, 0o644)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["junit.xml"], "no temp file left")
        XCTAssertThrowsError(try JUnitReport.write(Self.results, args: [], timestamp: Date(), to: dir.path + "/missing/x.xml"))
    }

    func testExitCodes() {
        func code(_ outcomes: [(CheckOutcome, Bool)]) -> RunExitCode {
            RunSummary(results: outcomes.enumerated().map { i, o in
                CheckResult(name: "c\(i)", component: "x", topology: "any", expect: .allow, outcome: o.0, settled: o.1)
            }).exitCode
        }
        XCTAssertEqual(code([(.pass, true), (.pass, true)]), .success)
        XCTAssertEqual(code([(.pass, true), (.pending, true), (.skipped, true)]), .success, "pending/skipped alone do not fail")
        XCTAssertEqual(code([(.pass, true), (.fail, true)]), .failure)
        XCTAssertEqual(code([(.pass, true), (.fail, false)]), .inconclusive, "only unsettled failures: the timeout won")
        XCTAssertEqual(code([(.pass, false)]), .inconclusive, "Ready but liveness not yet confirmed")
        XCTAssertEqual(code([(.fail, true), (.fail, false)]), .failure, "a definite failure outranks inconclusive")
        XCTAssertEqual(RunExitCode.usage.rawValue, 2)
    }

    /// A run where nothing ran proved nothing: it must not pass a CI job by accident.
    func testNoCheckRanIsInconclusive() {
        let skipped = [CheckResult(name: "c", component: "x", topology: "any", expect: .allow, outcome: .skipped, settled: true),
                       CheckResult(name: "d", component: "x", topology: "any", expect: .allow, outcome: .pending, settled: true)]
        XCTAssertEqual(RunSummary(results: skipped).exitCode, .inconclusive)
        XCTAssertEqual(RunSummary(results: skipped).inconclusiveReason, "no check ran: 1 pending, 1 skipped")
        XCTAssertEqual(RunSummary(results: []).exitCode, .inconclusive)
        XCTAssertEqual(RunSummary(results: []).inconclusiveReason, "no check ran: the selection matched no check")
        let json = JSONReport.render([], summary: RunSummary(results: []))
        XCTAssertTrue(json.contains("\"inconclusiveReason\": \"no check ran: the selection matched no check\""), json)
        XCTAssertTrue(json.contains("\"exitCode\": 3"), json)
    }
}
