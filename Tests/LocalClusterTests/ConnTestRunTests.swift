import Agent
import ConnTest
import Foundation
import HealthHistory
import XCTest

/// `conntest run` on real local clusters with a control plane: applied through the API, run by the
/// node agents (real namespaces, DNS, nftables, eBPF policy and HTTP traffic), read back from pod
/// status and events.
final class ConnTestRunTests: XCTestCase {
    private func conntest(_ fixture: ClusterFixture, _ args: [String], timeout: TimeInterval = 120) throws -> Command.Result {
        try fixture.conntestRun(args, timeout: timeout)
    }

    /// Nothing of the run may survive it: its objects in the API (only the empty namespace stays),
    /// the pods the agents ran for it. The cluster itself (made by the fixture) stays.
    private func assertNothingLeftBehind(_ fixture: ClusterFixture, nodes: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let pods = Netns.list().filter { $0.hasPrefix("nh-\(fixture.name)-kpod-cilium-test.") }
        XCTAssertEqual(pods, [], "pod namespaces", file: file, line: line)
        try fixture.assertOnlyTheEmptyNamespaceStays(orAbsent: true, file: file, line: line)
        for i in 1...nodes {
            XCTAssertTrue(Netns.exists(fixture.layout.nodeNamespace("node-\(i)")), "the cluster stays up", file: file, line: line)
        }
    }

    func testDefaultWorkloadOnThreeNodesPasses() throws {
        let fixture = try ClusterFixture(nodes: 3, kubernetes: true)
        defer { fixture.down() }
        let junit = fixture.stateDir + "/junit.xml"
        // `agent monitor --type drop` streams the agents' drops from another process, beside the run.
        let monitor = try BackgroundCommand(["env", "NETHEALTH_STATE_DIR=\(fixture.stateDir)", "\(fixture.binDir)/agent",
                                             "monitor", "--name", fixture.name, "--type", "drop", "--duration", "120"])
        defer { monitor.terminate() }
        XCTAssertTrue(monitor.waitForStderr(containing: "Press Ctrl-C to quit", seconds: 10), monitor.stderr)
        let r = try conntest(fixture, ["-o", "json", "--junit-file", junit, "--timeout", "90s", "--monitor"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let report = try RunReport(json: r.stdout)
        XCTAssertEqual(report.exitCode, 0)
        XCTAssertEqual(report.checks.count, 14, "the suite's 11 and one cilium-health check per node")
        let ran = report.checks.filter { $0.result != "skipped" }
        XCTAssertEqual(ran.count, 12, "the two L3/L4 policy checks run under the agents' eBPF datapath")
        XCTAssertEqual(report.check("cilium-health-node-2")?.result, "pass", r.stdout)
        for check in ran { XCTAssertEqual(check.result, "pass", check.name) }
        // Still skipped: external traffic (checked first) and FQDN rules have no local stand-in.
        XCTAssertEqual(report.check("pod-to-external-fqdn-allow-google-cnp")?.reason, LocalCapabilities.noExternalHostReason)
        XCTAssertEqual(report.check("pod-to-external-1111")?.reason, LocalCapabilities.noExternalHostReason)
        // The deny was enforced (not just a failing connect): the datapath dropped echo-a:8080.
        let denied = try XCTUnwrap(report.check("pod-to-a-denied-cnp"))
        XCTAssertGreaterThan(denied.drops ?? 0, 0, r.stderr)
        XCTAssertEqual(report.check("pod-to-a-allowed-cnp")?.drops, 0, r.stderr)
        let monitorLines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("xx drop (Policy denied)") }
        XCTAssertTrue(monitorLines.contains { $0.contains(":8080 tcp (cilium-test/pod-to-a-denied-cnp-") && $0.hasSuffix("-> cilium-test/echo-a)") },
                      r.stderr)
        XCTAssertEqual(monitorLines.count, denied.drops, "--monitor printed every drop the report counts")
        usleep(300_000)
        let streamed = monitor.interruptAndWait()
        XCTAssertEqual(streamed.status, 0, streamed.stderr)
        let streamedDrops = streamed.stdout.split(separator: "\n").filter { $0.contains("(cilium-test/pod-to-a-denied-cnp-") }
        // A reader beside the run also sees the denied pod's probes between the report's cut-off and
        // the pod's deletion: at least every drop the report counts.
        XCTAssertGreaterThanOrEqual(streamedDrops.count, denied.drops ?? 0, "agent monitor saw the report's drops: \(streamed.stdout)")
        XCTAssertTrue(r.stderr.contains("ready"), "progress lines on stderr")

        // The real run's report and JUnit file, through validators we did not write.
        try assertReportsConform(json: r.stdout, junit: junit, written: #"{"tests": 14, "failures": 0, "errors": 0, "skipped": 2}"#)
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        XCTAssertEqual(xml.components(separatedBy: "<testcase ").count - 1, 14)
        XCTAssertTrue(xml.contains("pod-to-b-multi-node-nodeport"))
        try assertNothingLeftBehind(fixture, nodes: 3)
    }

    /// No loadable datapath object on the nodes: the policy checks are skipped with the reason
    /// (never passed), the cause is on stderr, and the rest of the run is unaffected.
    func testUnloadableDatapathSkipsPolicyChecks() throws {
        let fixture = try ClusterFixture(nodes: 2, kubernetes: true, upEnvironment: ["DATAPATH_BPF_OBJECT": "/nonexistent/policy.bpf.o"])
        defer { fixture.down() }
        let r = try conntest(fixture, ["-o", "json", "--timeout", "90s"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let report = try RunReport(json: r.stdout)
        for name in ["pod-to-a-denied-cnp", "pod-to-a-allowed-cnp"] {
            XCTAssertEqual(report.check(name)?.reason, LocalCapabilities.noPolicyReason, name)
            XCTAssertNil(report.check(name)?.drops, name)
        }
        XCTAssertEqual(report.result("pod-to-a"), "pass")
        XCTAssertTrue(r.stderr.contains("policy enforcement unavailable on node-1"), r.stderr)
        XCTAssertTrue(r.stderr.contains("/nonexistent/policy.bpf.o"), r.stderr)
        try assertNothingLeftBehind(fixture, nodes: 2)

        // The run was kept (default: <state>/conntest-history.db), every check with its result.
        let history = try Command.run(["env", "NETHEALTH_STATE_DIR=\(fixture.stateDir)", "\(fixture.binDir)/conntest", "history",
                                       "--check", "pod-to-a", "-o", "json"])
        XCTAssertEqual(history.status, 0, history.stderr)
        let runs = try JSONDecoder().decode([RunHistory.Run].self, from: Data(history.stdout.utf8))
        XCTAssertEqual(runs.count, 1, history.stdout)
        XCTAssertEqual(runs.first?.exitCode, 0)
        XCTAssertEqual(runs.first?.cluster, fixture.name)
        XCTAssertEqual(runs.first?.checks.map(\.name), ["pod-to-a"])
        XCTAssertEqual(runs.first?.checks.first?.result, "pass")
        XCTAssertNotNil(runs.first?.checks.first?.readySeconds)
        let table = try Command.run(["env", "NETHEALTH_STATE_DIR=\(fixture.stateDir)", "\(fixture.binDir)/conntest", "history"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.hasPrefix("RUN   STARTED"), table.stdout)
        XCTAssertTrue(table.stdout.contains(" \(report.checks.count)    "), table.stdout)
    }

    /// One node: the real scheduler cannot place the multi-node checks (anti-affinity), so they are
    /// pending with its reason, and the rest passes.
    func testOneNodeLeavesMultiNodeChecksPending() throws {
        let fixture = try ClusterFixture(nodes: 1, kubernetes: true)
        defer { fixture.down() }
        let r = try conntest(fixture, ["-o", "json", "--timeout", "90s", "--nodes", "3"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("is already up with 1 node; --nodes 3 applies only when the run brings a cluster up"),
                      r.stderr)
        let report = try RunReport(json: r.stdout)
        for name in ["pod-to-b-multi-node-clusterip", "pod-to-b-multi-node-headless", "host-to-b-multi-node-clusterip",
                     "host-to-b-multi-node-headless", "pod-to-b-multi-node-nodeport"] {
            XCTAssertEqual(report.result(name), "pending", name)
            XCTAssertTrue(report.check(name)?.reason?.contains("0/1 nodes are available") == true, report.check(name)?.reason ?? name)
        }
        XCTAssertEqual(report.result("pod-to-a"), "pass")
        XCTAssertEqual(report.result("pod-to-b-intra-node-nodeport"), "pass")
        try assertNothingLeftBehind(fixture, nodes: 1)
    }

    /// A run cut short by --timeout is inconclusive (exit 3); --exit-zero-on-failure makes the process
    /// exit 0 while the report keeps the real verdict, and --junit-property lands in the JUnit file.
    func testExitZeroOnFailureKeepsTheVerdictInTheReport() throws {
        let fixture = try ClusterFixture(nodes: 1, kubernetes: true)
        defer { fixture.down() }
        let junit = fixture.stateDir + "/junit.xml"
        let r = try conntest(fixture, ["-o", "json", "--timeout", "1s", "--time-scale", "1", "--exit-zero-on-failure",
                                       "--junit-file", junit, "--junit-property", "owner=sig-net"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let report = try RunReport(json: r.stdout)
        XCTAssertEqual(report.exitCode, Int(RunExitCode.inconclusive.rawValue))
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        XCTAssertTrue(xml.contains(#"<property name="owner" value="sig-net"></property>"#), xml)
        XCTAssertTrue(xml.contains(#"<property name="Args" value="--cluster|"#), "Args are the arguments after `conntest run`")

        let bad = try conntest(fixture, ["--junit-property", "novalue", "--exit-zero-on-failure"])
        XCTAssertEqual(bad.status, 2, "a usage error is never turned into 0")
        XCTAssertTrue(bad.stderr.contains("invalid --junit-property 'novalue'"), bad.stderr)
        try assertNothingLeftBehind(fixture, nodes: 1)
    }

    /// Two runs on one cluster would delete each other's namespace: the second is refused at once,
    /// with the first one's pid, and the first is unaffected.
    func testSecondRunOnTheSameClusterIsRefused() throws {
        let fixture = try ClusterFixture(nodes: 1, kubernetes: true)
        defer { fixture.down() }
        let first = try BackgroundCommand(["\(fixture.binDir)/conntest", "run", "--cluster", fixture.name, "--time-scale", "1",
                                           "--timeout", "30s"], environment: ["NETHEALTH_STATE_DIR": fixture.stateDir])
        defer { first.terminate() }
        XCTAssertTrue(first.waitForStderr(containing: "⌛ [", seconds: 60), first.stderr)
        let prefix = "nh-\(fixture.name)-kpod-cilium-test."
        let pods = Netns.list().filter { $0.hasPrefix(prefix) }
        XCTAssertFalse(pods.isEmpty)

        let second = try conntest(fixture, ["--timeout", "30s"])
        XCTAssertEqual(second.status, 2, second.stderr)
        XCTAssertTrue(second.stderr.contains("is in use by another conntest run (pid \(first.process.processIdentifier))"), second.stderr)
        // The first run may still be starting pods; none of its pods may have gone.
        XCTAssertTrue(Set(pods).isSubset(of: Set(Netns.list().filter { $0.hasPrefix(prefix) })), "the first run's pods are untouched")

        first.signal(SIGTERM)
        first.process.waitUntilExit()
        try fixture.eventually("the first run's pods gone", timeout: 20) { Netns.list().filter { $0.hasPrefix(prefix) }.isEmpty }
        try assertNothingLeftBehind(fixture, nodes: 1)
        let third = try conntest(fixture, ["-t", "name=pod-to-a", "--timeout", "30s"])
        XCTAssertNotEqual(third.status, 2, "the lock is free again once the first run ended: \(third.stderr)")
    }

    /// `-t name=pod-to-a-denied-cnp` selects the check and its CNP but not echo-a: the run adds echo-a
    /// and its Service, so the deny passes because policy dropped the packets, not because the name
    /// did not resolve.
    func testFilteredRunDeploysTheServerTheCheckProbes() throws {
        let fixture = try ClusterFixture(nodes: 1, kubernetes: true)
        defer { fixture.down() }
        let r = try conntest(fixture, ["-o", "json", "-t", "name=pod-to-a-denied-cnp", "--timeout", "60s"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("adding what the selected checks probe: Deployment echo-a, Service echo-a"), r.stderr)
        let report = try RunReport(json: r.stdout)
        XCTAssertEqual(report.checks.map(\.name), ["pod-to-a-denied-cnp"], "only the selected check is reported")
        let denied = try XCTUnwrap(report.checks.first)
        XCTAssertEqual(denied.result, "pass")
        XCTAssertGreaterThan(denied.drops ?? 0, 0, "denied by the datapath: \(r.stderr)")
        try assertNothingLeftBehind(fixture, nodes: 1)
    }

    func testIPv6RunOnAnIPv4ClusterIsRefused() throws {
        let fixture = try ClusterFixture(nodes: 1, kubernetes: true)
        defer { fixture.down() }
        let r = try conntest(fixture, ["--ip-family", "ipv6"])
        XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("has no IPv6: bring it up with `agent cluster up --ipv6`"), r.stderr)
        try assertNothingLeftBehind(fixture, nodes: 1)
    }

    /// A cluster without a control plane cannot host a run: said at once, nothing created.
    func testClusterWithoutControlPlaneIsRefused() throws {
        let fixture = try ClusterFixture(nodes: 1)
        defer { fixture.down() }
        let r = try conntest(fixture, ["-t", "name=pod-to-a"])
        XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("has no Kubernetes control plane"), r.stderr)
    }
}

/// A run that brings its own cluster up must take it down again, also when it is interrupted.
final class ConnTestRunSignalTests: XCTestCase {
    func testSIGTERMDuringRunRemovesWorkloadAndItsCluster() throws {
        let scratch = ClusterNaming.Scratch(prefix: "s")
        defer { scratch.remove() }  // the run itself must have removed everything; this is for a failing test
        let (name, stateDir, binDir, layout) = (scratch.name, scratch.stateDir, ClusterNaming.binDir, scratch.layout)

        // Real-time periods: the checks are still waiting when the signal arrives.
        let run = try BackgroundCommand([binDir + "/conntest", "run", "--cluster", name, "--nodes", "2", "--time-scale", "1",
                                         "--timeout", "2m"], environment: ["NETHEALTH_STATE_DIR": stateDir])
        defer { run.terminate() }
        XCTAssertTrue(run.waitForStderr(containing: "⌛ [", seconds: 90), run.stderr)
        let stderrText = run.stderr
        XCTAssertTrue(stderrText.contains("bringing up cluster"), stderrText)
        // The run brings up a cluster with a control plane: the node agents run the pods.
        XCTAssertFalse(Netns.list().filter { $0.hasPrefix("nh-\(name)-kpod-cilium-test.") }.isEmpty, "pods were running")
        run.signal(SIGTERM)
        run.process.waitUntilExit()
        XCTAssertEqual(run.process.terminationStatus, 128 + SIGTERM)
        XCTAssertEqual(Netns.list().filter(layout.ownsNamespace), [], "cluster and pods removed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: layout.clusterDir))
        let netnsDirs = (try? FileManager.default.contentsOfDirectory(atPath: ResolvConf.root)) ?? []
        XCTAssertEqual(netnsDirs.filter(layout.ownsNamespace), [])
    }
}

/// Mirrors WorkloadCleanup's ownership test, from the outside.
enum WorkloadCleanupProbe {
    static func isEchoServer(_ pid: pid_t) -> Bool {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
        return String(decoding: data, as: UTF8.self).contains("echo-server")
    }
}
