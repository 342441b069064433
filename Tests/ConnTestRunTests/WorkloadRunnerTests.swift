import XCTest
@testable import ConnTest

/// The default workload end to end on 1 node, with every probe mapped to a real
/// /bin/true (or /bin/false for one broken check).
final class WorkloadRunnerTests: XCTestCase {
    func testDefaultWorkloadOnOneNode() async throws {
        let workload = try RunWorkload(resources: try Variant.default.resources())
        // Enforcement on: this test maps probes to true/false, so policy checks may run.
        let plan = try RunPlan(workload: workload, nodeCount: 1, capabilities: LocalCapabilities(policyEnforcement: true))
        let local = LocalCommandExec()
        let progressLines = Lines()
        let runner = WorkloadRunner(timeScale: 0.02, timeout: .seconds(20), pollInterval: .milliseconds(50))
        let outcome = await runner.run(plan, exec: { pod, _, _ in
            { _, timeout in await local.run([pod == "pod-to-a-allowed-cnp" ? "false" : "true"], timeout: timeout) }
        }, progress: { progressLines.append(ConsoleReport.progressLine($0)) })

        let byName = Dictionary(uniqueKeysWithValues: outcome.results.map { ($0.name, $0) })
        XCTAssertEqual(outcome.results.count, 11)
        XCTAssertEqual(byName["pod-to-a"]?.outcome, .pass)
        XCTAssertNotNil(byName["pod-to-a"]?.readySeconds)
        XCTAssertEqual(byName["pod-to-a"]?.node, "node-1")
        XCTAssertEqual(byName["pod-to-a-denied-cnp"]?.expect, .deny)
        // Liveness fails alongside readiness: the broken check restarts.
        XCTAssertEqual(byName["pod-to-a-allowed-cnp"]?.outcome, .fail)
        XCTAssertEqual(byName["pod-to-a-allowed-cnp"]?.lastFailure?.contains("exit 1"), true)
        XCTAssertEqual(byName["pod-to-external-1111"]?.outcome, .skipped)
        XCTAssertEqual(outcome.results.filter { $0.outcome == .pending }.count, 5, "multi-node checks of the default set")
        XCTAssertEqual(outcome.summary.exitCode, .failure)
        XCTAssertEqual(outcome.summary.passed, 3)
        XCTAssertFalse(outcome.summary.inconclusive)
        XCTAssertTrue(outcome.servers.values.allSatisfy(\.ready))
        XCTAssertFalse(progressLines.all.isEmpty)
        XCTAssertLessThan(outcome.summary.durationSeconds, 10, "stops once everything settled")
    }

    func testTimeoutBeforeSettlingIsInconclusive() async throws {
        let workload = try RunWorkload(resources: try Variant.default.resources())
        let plan = try RunPlan(workload: workload, nodeCount: 3)
        let local = LocalCommandExec()
        // Servers are Ready at once; every check's probe hangs past the 1.5 s run timeout.
        let outcome = await WorkloadRunner(timeScale: 1, timeout: .milliseconds(1500), pollInterval: .milliseconds(50))
            .run(plan, exec: { pod, _, _ in
                { _, timeout in await local.run(pod.hasPrefix("echo-") ? ["true"] : ["sleep", "5"], timeout: timeout) }
            })
        XCTAssertTrue(outcome.summary.inconclusive)
        XCTAssertEqual(outcome.summary.exitCode, .inconclusive)
        let ran = outcome.results.filter { $0.outcome != .skipped && $0.outcome != .pending }
        XCTAssertFalse(ran.isEmpty)
        XCTAssertTrue(ran.allSatisfy { !$0.settled && $0.outcome != .pass }, "\(ran.map { ($0.name, $0.outcome) })")
    }
}

final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}
