import Agent
import ConnTest
import ConnTestLocal
import Foundation
import HealthHistory
import XCTest

/// `conntest run` on real local clusters: real namespaces, DNS, nftables and HTTP traffic.
final class ConnTestRunTests: XCTestCase {
    private func conntest(_ fixture: ClusterFixture, _ args: [String], timeout: TimeInterval = 120) throws -> Command.Result {
        try fixture.conntestRun(args, timeout: timeout)
    }

    /// Nothing of the run may survive it: pod namespaces, service tables and routes, resolv.conf
    /// directories, workload files, echo servers. The cluster itself (made by the fixture) stays.
    private func assertNothingLeftBehind(_ fixture: ClusterFixture, nodes: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let layout = fixture.layout
        XCTAssertEqual(Netns.list().filter { $0.hasPrefix(layout.podNamespacePrefix) }, [], "pod namespaces", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: layout.workloadDir), "workload dir", file: file, line: line)
        for i in 1...nodes {
            let ns = layout.nodeNamespace("node-\(i)")
            XCTAssertTrue(Netns.exists(ns), "the cluster stays up", file: file, line: line)
            let tables = try Netns.exec(ns, ["nft", "list", "tables"]).stdout
            XCTAssertFalse(tables.contains(ServiceProxy.table), "service table on node-\(i)", file: file, line: line)
            let routes = try Netns.exec(ns, ["ip", "route"]).stdout
            XCTAssertFalse(routes.contains("198.18.128.0/20"), "service route on node-\(i)", file: file, line: line)
            XCTAssertFalse(FileManager.default.fileExists(atPath: ResolvConf.directory(namespace: ns)), file: file, line: line)
            let leftovers = Netns.pids(ns).filter { WorkloadCleanupProbe.isEchoServer($0) }
            XCTAssertEqual(leftovers, [], "hostNetwork echo servers on node-\(i)", file: file, line: line)
        }
    }

    func testDefaultWorkloadOnThreeNodesPasses() throws {
        let fixture = try ClusterFixture(nodes: 3)
        defer { fixture.down() }
        let junit = fixture.stateDir + "/junit.xml"
        // `agent monitor --type drop` streams the run's drops from another process.
        let monitor = try BackgroundCommand(["env", "NETHEALTH_STATE_DIR=\(fixture.stateDir)", "\(fixture.binDir)/agent",
                                             "monitor", "--name", fixture.name, "--type", "drop", "--duration", "120"])
        defer { monitor.terminate() }
        XCTAssertTrue(monitor.waitForStderr(containing: "Press Ctrl-C to quit", seconds: 10), monitor.stderr)
        let r = try conntest(fixture, ["-o", "json", "--junit-file", junit, "--timeout", "90s", "--monitor"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let report = try RunReport(json: r.stdout)
        XCTAssertEqual(report.exitCode, 0)
        XCTAssertEqual(report.checks.count, 11)
        let ran = report.checks.filter { $0.result != "skipped" }
        XCTAssertEqual(ran.count, 9, "the two L3/L4 policy checks run under the eBPF datapath")
        for check in ran { XCTAssertEqual(check.result, "pass", check.name) }
        XCTAssertEqual(report.result("pod-to-a-denied-cnp"), "pass")
        XCTAssertEqual(report.result("pod-to-a-allowed-cnp"), "pass")
        // Still skipped: external traffic (checked first) and FQDN rules have no local stand-in.
        XCTAssertEqual(report.check("pod-to-external-fqdn-allow-google-cnp")?.reason,
                       LocalCapabilities.noExternalHostReason)
        XCTAssertEqual(report.checks.first { $0.name == "pod-to-external-1111" }?.reason, LocalCapabilities.noExternalHostReason)
        // The deny was enforced (not just a failing connect): the datapath dropped echo-a:8080.
        let denied = try XCTUnwrap(report.checks.first { $0.name == "pod-to-a-denied-cnp" })
        XCTAssertGreaterThan(denied.drops ?? 0, 0, r.stderr)
        XCTAssertEqual(report.checks.first { $0.name == "pod-to-a-allowed-cnp" }?.drops, 0, r.stderr)
        let monitorLines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("xx drop (Policy denied)") }
        XCTAssertTrue(monitorLines.contains { $0.contains(":8080 tcp") && $0.hasSuffix("(pod-to-a-denied-cnp -> echo-a)") },
                      r.stderr)
        let dropLog = try String(contentsOfFile: fixture.layout.dropLogPath, encoding: .utf8)
        XCTAssertEqual(dropLog.split(separator: "\n").count, denied.drops, "drops.log has every drop")
        XCTAssertTrue(dropLog.contains("(pod-to-a-denied-cnp -> echo-a)"), dropLog)
        usleep(300_000)  // the monitor polls every 100 ms
        let streamed = monitor.interruptAndWait()
        XCTAssertEqual(streamed.status, 0, streamed.stderr)
        XCTAssertEqual(streamed.stdout, dropLog, "agent monitor printed every drop, in order")
        XCTAssertTrue(streamed.stderr.contains("Received an interrupt"), streamed.stderr)
        XCTAssertTrue(r.stderr.contains("ready"), "progress lines on stderr")

        // The real run's report and JUnit file, through validators we did not write.
        let validators = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let schema = try Command.run(["python3", validators.path + "/scripts/validate/json-schema.py",
                                      validators.path + "/schemas/conntest-report.schema.json", "-"], input: r.stdout)
        XCTAssertEqual(schema.status, 0, "report does not match its schema: \(schema.stdout)\(schema.stderr)")
        let junitparser = try Command.run(["python3", validators.path + "/scripts/validate/junit-read.py", junit])
        XCTAssertEqual(junitparser.status, 0, junitparser.stderr)
        XCTAssertTrue(junitparser.stdout.contains(#""written": {"tests": 11, "failures": 0, "errors": 0, "skipped": 2}"#),
                      junitparser.stdout)
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        XCTAssertEqual(xml.components(separatedBy: "<testcase ").count - 1, 11)
        XCTAssertTrue(xml.contains("pod-to-b-multi-node-nodeport"))
        try assertNothingLeftBehind(fixture, nodes: 3)
    }

    /// No loadable datapath object: the policy checks are skipped with the reason (never passed),
    /// the cause is on stderr, and the rest of the run is unaffected.
    func testUnloadableDatapathSkipsPolicyChecks() throws {
        let fixture = try ClusterFixture(nodes: 2)
        defer { fixture.down() }
        let r = try Command.run(["env", "NETHEALTH_STATE_DIR=\(fixture.stateDir)", "DATAPATH_BPF_OBJECT=/nonexistent/policy.bpf.o",
                                 "\(fixture.binDir)/conntest", "run", "--cluster", fixture.name, "-o", "json",
                                 "--timeout", "90s"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let report = try RunReport(json: r.stdout)
        for name in ["pod-to-a-denied-cnp", "pod-to-a-allowed-cnp"] {
            XCTAssertEqual(report.checks.first { $0.name == name }?.reason, LocalCapabilities.noPolicyReason, name)
            XCTAssertNil(report.checks.first { $0.name == name }?.drops, name)
        }
        XCTAssertEqual(report.result("pod-to-a"), "pass")
        XCTAssertTrue(r.stderr.contains("policy enforcement unavailable"), r.stderr)
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

    func testOneNodeLeavesMultiNodeChecksPending() throws {
        let fixture = try ClusterFixture(nodes: 1)
        defer { fixture.down() }
        let r = try conntest(fixture, ["-o", "json", "--timeout", "90s", "--nodes", "3"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("is already up with 1 node; --nodes 3 applies only when the run brings a cluster up"),
                      r.stderr)
        let report = try RunReport(json: r.stdout)
        for name in ["pod-to-b-multi-node-clusterip", "pod-to-b-multi-node-headless", "host-to-b-multi-node-clusterip",
                     "host-to-b-multi-node-headless", "pod-to-b-multi-node-nodeport"] {
            XCTAssertEqual(report.result(name), "pending", name)
        }
        XCTAssertEqual(report.result("pod-to-a"), "pass")
        XCTAssertEqual(report.result("pod-to-b-intra-node-nodeport"), "pass")
        try assertNothingLeftBehind(fixture, nodes: 1)
    }

    /// A run cut short by --timeout is inconclusive (exit 3); --exit-zero-on-failure makes the process
    /// exit 0 while the report keeps the real verdict, and --junit-property lands in the JUnit file.
    func testExitZeroOnFailureKeepsTheVerdictInTheReport() throws {
        let fixture = try ClusterFixture(nodes: 1)
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

    /// Two runs on one cluster would delete each other's pods: the second is refused at once, with
    /// the first one's pid, and the first is unaffected.
    func testSecondRunOnTheSameClusterIsRefused() throws {
        let fixture = try ClusterFixture(nodes: 1)
        defer { fixture.down() }
        let first = try BackgroundCommand(["\(fixture.binDir)/conntest", "run", "--cluster", fixture.name, "--time-scale", "1",
                                           "--timeout", "30s"], environment: ["NETHEALTH_STATE_DIR": fixture.stateDir])
        defer { first.terminate() }
        XCTAssertTrue(first.waitForStderr(containing: "ready", seconds: 30), first.stderr)
        let pods = Netns.list().filter { $0.hasPrefix(fixture.layout.podNamespacePrefix) }
        XCTAssertFalse(pods.isEmpty)

        let second = try conntest(fixture, ["--timeout", "30s"])
        XCTAssertEqual(second.status, 2, second.stderr)
        XCTAssertTrue(second.stderr.contains("is in use by another conntest run (pid \(first.process.processIdentifier))"), second.stderr)
        XCTAssertEqual(Netns.list().filter { $0.hasPrefix(fixture.layout.podNamespacePrefix) }, pods, "the first run's pods are untouched")

        first.signal(SIGTERM)
        first.process.waitUntilExit()
        try assertNothingLeftBehind(fixture, nodes: 1)
        let third = try conntest(fixture, ["-t", "name=pod-to-a", "--timeout", "30s"])
        XCTAssertNotEqual(third.status, 2, "the lock is free again once the first run ended: \(third.stderr)")
    }

    /// `-t name=pod-to-a-denied-cnp` selects the check and its CNP but not echo-a: the run adds echo-a
    /// and its Service, so the deny passes because policy dropped the packets, not because the name
    /// did not resolve.
    func testFilteredRunDeploysTheServerTheCheckProbes() throws {
        let fixture = try ClusterFixture(nodes: 1)
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

    /// `--ip-family ipv6` on a dual-stack cluster: every check that runs passes over IPv6, and the
    /// datapath drops the denied check's IPv6 packets to echo-a's IPv6 ClusterIP.
    func testIPv6RunPassesAndDropsIPv6() throws {
        let fixture = try ClusterFixture(nodes: 3, ipv6: true)
        defer { fixture.down() }
        let r = try conntest(fixture, ["-o", "json", "--ip-family", "ipv6", "--monitor", "--timeout", "90s"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let report = try RunReport(json: r.stdout)
        let ran = report.checks.filter { $0.result != "skipped" }
        XCTAssertEqual(ran.count, 9)
        for check in ran { XCTAssertEqual(check.result, "pass", check.name) }
        let denied = try XCTUnwrap(report.checks.first { $0.name == "pod-to-a-denied-cnp" })
        XCTAssertGreaterThan(denied.drops ?? 0, 0, r.stderr)
        let drops = r.stderr.split(separator: "\n").filter { $0.hasPrefix("xx drop (Policy denied)") }
        XCTAssertFalse(drops.isEmpty)
        XCTAssertTrue(drops.allSatisfy { $0.contains("-> [fd00:198:128::10]:8080 tcp (pod-to-a-denied-cnp -> echo-a)") },
                      drops.joined(separator: "\n"))
        try assertNothingLeftBehind(fixture, nodes: 3)
    }

    func testIPv6RunOnAnIPv4ClusterIsRefused() throws {
        let fixture = try ClusterFixture(nodes: 1)
        defer { fixture.down() }
        let r = try conntest(fixture, ["--ip-family", "ipv6"])
        XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
        XCTAssertTrue(r.stderr.contains("has no IPv6: bring it up with `agent cluster up --ipv6`"), r.stderr)
        try assertNothingLeftBehind(fixture, nodes: 1)
    }

    /// A node cut off from the others (every packet on its uplink dropped, `agent cluster fault
    /// --drop all`) fails exactly the cross-node checks: the intra-node ones still pass, because
    /// their pods, their Service rules and their DNS replica are all on that node.
    func testBlackHoledNodeFailsMultiNodeChecksOnly() throws {
        let fixture = try ClusterFixture(nodes: 3)
        defer { fixture.down() }
        // The scheduler is deterministic: cut off the node the multi-node checks all lead to.
        let plan = try RunPlan(workload: try RunWorkload(resources: try Variant.default.resources()), nodeCount: 3,
                               capabilities: LocalCapabilities(policyEnforcement: true))
        let echoBNode = try XCTUnwrap(plan.schedule.placement(of: "echo-b")?.nodeName)
        let fault = try Command.run(["env", "NETHEALTH_STATE_DIR=\(fixture.stateDir)", "\(fixture.binDir)/agent", "cluster",
                                     "fault", echoBNode, "--name", fixture.name, "--drop", "all"])
        XCTAssertEqual(fault.status, 0, fault.stderr)

        let r = try conntest(fixture, ["-o", "json", "--timeout", "90s"])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        let report = try RunReport(json: r.stdout)
        XCTAssertEqual(report.exitCode, 1)
        let multi = report.checks.filter { $0.topology == "multi-node" }
        let intra = report.checks.filter { $0.topology == "intra-node" }
        XCTAssertEqual(multi.count, 5)
        XCTAssertEqual(intra.map(\.name), ["pod-to-b-intra-node-nodeport"])
        for check in multi { XCTAssertEqual(check.result, "fail", check.name) }
        for check in intra { XCTAssertEqual(check.result, "pass", check.name) }
        // The "any" checks all probe echo-a: where neither end is on the cut-off node, they pass.
        let echoANode = plan.schedule.placement(of: "echo-a")?.nodeName
        for check in report.checks where check.topology == "any" && check.result != "skipped" {
            guard plan.schedule.placement(of: check.name)?.nodeName != echoBNode, echoANode != echoBNode else { continue }
            XCTAssertEqual(check.result, "pass", check.name)
        }
        try assertNothingLeftBehind(fixture, nodes: 3)
    }

    /// The service table is what makes ClusterIP and NodePort work: without it on the client's
    /// node, those checks fail (and the run exits 1) while headless (plain pod IP) still passes.
    func testDeletedServiceTableFailsServiceChecks() async throws {
        let fixture = try ClusterFixture(nodes: 3)
        defer { fixture.down() }
        let layout = fixture.layout
        let spec = try ClusterSpec.load(layout.specPath)
        let plan = try RunPlan(workload: try RunWorkload(resources: try Variant.default.resources()), nodeCount: 3)
        let deployment = try LocalDeployment(layout: layout, cluster: spec, plan: plan)
        defer { deployment.teardown() }
        try deployment.deploy()

        let broken = ["pod-to-b-multi-node-clusterip", "pod-to-b-intra-node-nodeport"]
        for check in broken {
            let node = try XCTUnwrap(plan.schedule.placement(of: check)?.nodeName)
            _ = try Netns.exec(layout.nodeNamespace(node), ["nft", "delete", "table", "ip", ServiceProxy.table])
        }
        let outcome = await WorkloadRunner(timeScale: 0.1, timeout: .seconds(90))
            .run(plan, exec: deployment.execProvider, onRestart: deployment.restartHook)
        deployment.teardown()

        let results = Dictionary(uniqueKeysWithValues: outcome.results.map { ($0.name, $0) })
        for check in broken { XCTAssertEqual(results[check]?.outcome, .fail, check) }
        XCTAssertEqual(results["pod-to-b-multi-node-headless"]?.outcome, .pass)
        XCTAssertEqual(outcome.summary.exitCode, .failure)
        try assertNothingLeftBehind(fixture, nodes: 3)
    }
}

/// The datapath is what makes the deny check pass: with the programs detached the deny leaks, the
/// check fails and nothing is dropped.
final class ConnTestRunEnforcementTests: XCTestCase {
    func testDetachedProgramsLeakTheDeny() async throws {
        let fixture = try ClusterFixture(nodes: 3)
        defer { fixture.down() }
        let layout = fixture.layout
        let spec = try ClusterSpec.load(layout.specPath)
        let resources = try Variant.default.resources()
        let plan = try RunPlan(workload: try RunWorkload(resources: resources), nodeCount: 3,
                               capabilities: LocalCapabilities(policyEnforcement: true))
        let enforcement = try PolicyEnforcement(nodes: spec.nodes.map(\.name))
        defer { enforcement.close() }
        let deployment = try LocalDeployment(layout: layout, cluster: spec, plan: plan)
        defer { deployment.teardown() }
        try deployment.deploy()
        let policyPlan = try deployment.enforcementPlan(resources: resources)
        try enforcement.apply(policyPlan, layout: layout)
        // The tc filters on node-1's DNS replica veth, before and after detaching.
        func dnsVethFilters() throws -> String {
            try Netns.exec(layout.nodeNamespace("node-1"), ["tc", "filter", "show", "dev",
                           PodNetwork.hostInterface(pod: ClusterDNS.podName(node: "node-1")), "ingress"]).stdout
        }
        XCTAssertTrue(try dnsVethFilters().contains("bpf"))
        try enforcement.detachAll()
        let node1 = try dnsVethFilters()
        XCTAssertFalse(node1.contains("bpf"), node1)

        let outcome = await WorkloadRunner(timeScale: 0.1, timeout: .seconds(90))
            .run(plan, exec: deployment.execProvider, onRestart: deployment.restartHook)
        let drops = await enforcement.stopMonitoring()
        enforcement.close()
        deployment.teardown()

        let results = Dictionary(uniqueKeysWithValues: outcome.results.map { ($0.name, $0) })
        XCTAssertEqual(results["pod-to-a-denied-cnp"]?.outcome, .fail, "deny leaked")
        XCTAssertEqual(results["pod-to-a-allowed-cnp"]?.outcome, .pass)
        XCTAssertEqual(drops.filter { $0.sourcePod == "pod-to-a-denied-cnp" }.count, 0)
        XCTAssertEqual(outcome.summary.exitCode, .failure)
    }
}

/// Why the ClusterIP rule exists: tc sees the client's packet before the node's DNAT, so allowing only
/// echo-a's pod IP drops `curl echo-a:8080` (the Service) and the allowed check fails.
final class ConnTestRunClusterIPRuleTests: XCTestCase {
    func testAllowedCheckNeedsTheClusterIPRule() async throws {
        let fixture = try ClusterFixture(nodes: 2)
        defer { fixture.down() }
        let layout = fixture.layout
        let spec = try ClusterSpec.load(layout.specPath)
        let resources = try Variant.default.resources()
        // Only the allowed check (and the servers): a short run.
        var workload = try RunWorkload(resources: resources)
        workload.checks = workload.checks.filter { $0.name == "pod-to-a-allowed-cnp" }
        let plan = try RunPlan(workload: workload, nodeCount: 2, capabilities: LocalCapabilities(policyEnforcement: true))
        let enforcement = try PolicyEnforcement(nodes: spec.nodes.map(\.name))
        defer { enforcement.close() }
        let deployment = try LocalDeployment(layout: layout, cluster: spec, plan: plan)
        defer { deployment.teardown() }
        try deployment.deploy()
        var policyPlan = try deployment.enforcementPlan(resources: resources)
        let clusterIP = try XCTUnwrap(deployment.services.clusterIPs["echo-a"])
        let i = try XCTUnwrap(policyPlan.endpoints.firstIndex { $0.pod == "pod-to-a-allowed-cnp" })
        let before = policyPlan.endpoints[i].rules.count
        policyPlan.endpoints[i].rules.removeAll { $0.cidr == "\(clusterIP)/32" }
        XCTAssertEqual(policyPlan.endpoints[i].rules.count, before - 1)
        try enforcement.apply(policyPlan, layout: layout)

        let outcome = await WorkloadRunner(timeScale: 0.1, timeout: .seconds(60))
            .run(plan, exec: deployment.execProvider, onRestart: deployment.restartHook)
        let drops = await enforcement.stopMonitoring()
        enforcement.close()
        deployment.teardown()

        XCTAssertEqual(outcome.results.first { $0.name == "pod-to-a-allowed-cnp" }?.outcome, .fail)
        let allowedDrops = drops.filter { $0.sourcePod == "pod-to-a-allowed-cnp" }
        XCTAssertFalse(allowedDrops.isEmpty)
        XCTAssertTrue(allowedDrops.allSatisfy { $0.event.destination == clusterIP && $0.event.destinationPort == 8080 },
                      allowedDrops.map(\.description).joined(separator: "\n"))
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
        XCTAssertTrue(run.waitForStderr(containing: "ready", seconds: 60), run.stderr)
        let stderrText = run.stderr
        XCTAssertTrue(stderrText.contains("bringing up cluster"), stderrText)
        XCTAssertFalse(Netns.list().filter { $0.hasPrefix(layout.podNamespacePrefix) }.isEmpty, "pods were running")
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
