import Agent
import Foundation
import HealthAPI
import XCTest

/// `conntest run` through the Kubernetes API on a local cluster with a control plane: the same
/// code path a real cluster gets. Everything the tests assert is read from the report, kubectl or
/// the API — never from the run's own files.
final class ConnTestKubeRunTests: XCTestCase {
    func testDefaultRunBadInputAndCleanupThroughTheAPI() throws {
        guard (try? ControlPlaneBinaries.locate()) != nil else { return XCTFail("run scripts/build-kubernetes.sh") }
        let cluster = try ClusterFixture(nodes: 3, kubernetes: true)
        defer { cluster.down() }

        // The default workload with the simulated external host: every check that can run here
        // passes, JUnit written, namespace and the published external host gone afterwards.
        let junit = cluster.stateDir + "/junit.xml"
        let started = Date()
        let run = try cluster.conntestRun(["-o", "json", "--junit-file", junit, "--timeout", "90s", "--external-ip", "198.18.200.1"],
                                          timeout: 150)
        print("conntest run through the API: \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("applying"), run.stderr)
        let report = try RunReport(json: run.stdout)
        let ran = report.checks.filter { $0.result != "skipped" }
        XCTAssertEqual(ran.count, 13, "the L3/L4 policy checks run, enforced by the node agents, and one cilium-health check per node: \(run.stdout)")
        XCTAssertTrue(ran.allSatisfy { $0.result == "pass" }, run.stdout)
        XCTAssertEqual(ran.filter { $0.name.hasPrefix("cilium-health-") }.map(\.name).sorted(),
                       ["cilium-health-node-1", "cilium-health-node-2", "cilium-health-node-3"], "included by default on the local cluster")
        // The deny was enforced (not just a failing connect): the agents' datapath dropped its packets.
        XCTAssertGreaterThan(report.check("pod-to-a-denied-cnp")?.drops ?? 0, 0, run.stderr)
        XCTAssertEqual(report.check("pod-to-a-allowed-cnp")?.drops, 0, run.stderr)
        XCTAssertEqual(report.result("pod-to-external-1111"), "pass", "HTTPS to the simulated host, trusted through the API")
        XCTAssertTrue(try String(contentsOfFile: junit, encoding: .utf8).contains("<testsuites"))
        try cluster.assertOnlyTheEmptyNamespaceStays()
        XCTAssertThrowsError(try cluster.kubectl(["get", "configmap", "-n", "kube-system", "nethealth-simulated-internet"]))
        XCTAssertFalse(Netns.exists(cluster.layout.externalNamespace), "external host torn down")

        // With the node agents' programs detached the deny leaks: the check fails and nothing is dropped.
        XCTAssertEqual(try cluster.agent(["cluster", "policy", "detach", "--name", cluster.name, "--all"]).status, 0)
        let leak = try cluster.conntestRun(["-t", "name=pod-to-a-denied-cnp", "-o", "json", "--timeout", "60s"], timeout: 90)
        XCTAssertEqual(leak.status, 1, leak.stdout + leak.stderr)
        let leaked = try XCTUnwrap(try RunReport(json: leak.stdout).check("pod-to-a-denied-cnp"))
        XCTAssertEqual(leaked.result, "fail")
        XCTAssertEqual(leaked.drops, 0)
        XCTAssertEqual(try cluster.agent(["cluster", "policy", "attach", "--name", cluster.name, "--all"]).status, 0)

        // A namespace holding someone else's pod is refused before anything is applied.
        try cluster.applyNamespaceWithForeignPod("busy")
        let busy = try cluster.conntestRun(["-n", "busy", "-t", "name=pod-to-a"])
        XCTAssertEqual(busy.status, 2, busy.stderr)
        XCTAssertTrue(busy.stderr.contains("pod someone-elses"), busy.stderr)
        XCTAssertEqual(try cluster.names("deployments", in: "busy"), [], "nothing applied")

        // A rejection only the server can make (a quota: every object passes a dry run on its
        // own, the second Service is refused): named, exit 2, and nothing is left half-applied.
        try cluster.apply("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: quota}
            ---
            apiVersion: v1
            kind: ResourceQuota
            metadata: {name: one-service, namespace: quota}
            spec: {hard: {services: "1"}}
            """, waitForServiceAccountIn: "quota")
        let quota = try cluster.conntestRun(["-n", "quota"])
        XCTAssertEqual(quota.status, 2, quota.stderr)
        XCTAssertTrue(quota.stderr.contains("Service ") && quota.stderr.contains("exceeded quota"), quota.stderr)
        XCTAssertEqual(try cluster.names("deployments", in: "quota"), [], "rolled back")
        XCTAssertEqual(try cluster.names("services", in: "quota"), [], "rolled back")

        // An image this machine cannot run: the check fails with the container's Waiting reason.
        let image = try cluster.conntestRun(["-t", "name=pod-to-a", "--curl-image", "registry.local/tools/busybox:1", "-o", "json"])
        XCTAssertEqual(image.status, 1, image.stderr)
        let check = try XCTUnwrap(try RunReport(json: image.stdout).check("pod-to-a"), image.stdout)
        XCTAssertEqual(check.result, "fail")
        XCTAssertTrue(check.reason?.contains("ImageNotRunnableLocally") == true, check.reason ?? "no reason")
    }

    /// kill -9 of the apiserver while checks run: the run cannot see the verdicts, so it must end
    /// inconclusive (never a pass); the agents keep their pods meanwhile, and `cluster up` brings
    /// the apiserver back on etcd's data.
    func testAPIServerKilledMidRunIsNeverAPass() throws {
        guard (try? ControlPlaneBinaries.locate()) != nil else { return XCTFail("run scripts/build-kubernetes.sh") }
        let cluster = try ClusterFixture(nodes: 2, kubernetes: true)
        defer { cluster.down() }
        // Real-time probe periods: the checks are still being decided when the apiserver dies.
        let run = try BackgroundCommand(["\(cluster.binDir)/conntest", "run", "--cluster", cluster.name, "--time-scale", "1",
                                         "--timeout", "40s", "-o", "json"], environment: ["NETHEALTH_STATE_DIR": cluster.stateDir])
        defer { run.terminate() }
        XCTAssertTrue(run.waitForStderr(containing: "applying", seconds: 60), run.stderr)
        XCTAssertTrue(run.waitForStderr(containing: "⌛ [", seconds: 60), "checks applied and being read: \(run.stderr)")
        // Killed while an agent is still starting a pod, that pod's start fails and is rolled back:
        // the kill comes once the checks' pods have all started (the set unchanged for 1.5 s).
        var podsBefore: [String] = []
        var unchanged = 0
        try cluster.eventually("the checks' pods started", timeout: 30) {
            let now = Netns.list().filter { $0.hasPrefix("nh-\(cluster.name)-kpod-cilium-test.") }.sorted()
            unchanged = now == podsBefore ? unchanged + 1 : 0
            podsBefore = now
            return unchanged >= 3
        }
        XCTAssertFalse(podsBefore.isEmpty)
        let apiserver = try XCTUnwrap(Netns.pids(cluster.layout.controlPlaneNamespace).first { pid in
            let cmdline = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return cmdline.contains("kube-apiserver")
        })
        kill(apiserver, SIGKILL)
        run.process.waitUntilExit()
        XCTAssertEqual(run.process.terminationStatus, 3, "inconclusive, not a pass: \(run.stdout)\n\(run.stderr)")
        XCTAssertTrue(run.stderr.contains("keeping the last view"), run.stderr)
        XCTAssertFalse(try RunReport(json: run.stdout).checks.contains { $0.result == "pass" && $0.reason == nil }, run.stdout)
        // The agents kept running their pods without the API.
        let podsAfter = Netns.list().filter { $0.hasPrefix("nh-\(cluster.name)-kpod-cilium-test.") }
        XCTAssertEqual(Set(podsAfter), Set(podsBefore), run.stderr)

        let repair = try cluster.agent(["cluster", "up", "--name", cluster.name, "--nodes", "2"], timeout: 120)
        XCTAssertEqual(repair.status, 0, repair.stderr)
        try cluster.eventually("the API answers again", timeout: 30) { (try? cluster.kubectl(["get", "nodes"])) != nil }
        _ = try cluster.kubectl(["delete", "namespace", "cilium-test", "--wait=false"])
    }

    /// `--ip-family ipv6` through the API: Services single-stack IPv6, and the traffic really is
    /// IPv6 — with IPv6 forwarding off on every node the multi-node check fails, IPv4 still passes.
    func testIPv6RunThroughTheAPI() throws {
        guard (try? ControlPlaneBinaries.locate()) != nil else { return XCTFail("run scripts/build-kubernetes.sh") }
        let cluster = try ClusterFixture(nodes: 3, ipv6: true, kubernetes: true)
        defer { cluster.down() }
        let run = try cluster.conntestRun(["-o", "json", "--ip-family", "ipv6", "--timeout", "90s", "--monitor"], timeout: 150)
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = try RunReport(json: run.stdout)
        let ran = report.checks.filter { $0.result != "skipped" }
        XCTAssertEqual(ran.count, 12, "9 of the suite and 3 cilium-health checks: \(run.stdout)")
        XCTAssertTrue(ran.allSatisfy { $0.result == "pass" }, run.stdout)
        // The datapath drops the denied check's IPv6 packets to echo-a's IPv6 ClusterIP.
        XCTAssertGreaterThan(report.check("pod-to-a-denied-cnp")?.drops ?? 0, 0, run.stderr)
        let drops = run.stderr.split(separator: "\n").filter { $0.hasPrefix("xx drop (Policy denied)") }
        XCTAssertFalse(drops.isEmpty)
        XCTAssertTrue(drops.allSatisfy { $0.contains("-> [fd00:198:128:") && $0.contains("]:8080 tcp (cilium-test/pod-to-a-denied-cnp-") },
                      drops.joined(separator: "\n"))

        let nodes = (1...3).map { cluster.layout.nodeNamespace("node-\($0)") }
        func forwarding(_ on: Bool) throws {
            for ns in nodes { try Netns.sysctl(ns, ["net.ipv6.conf.all.forwarding=\(on ? 1 : 0)"]) }
        }
        try forwarding(false)
        defer { try? forwarding(true) }
        let check = ["-t", "name=pod-to-b-multi-node-clusterip", "-o", "json", "--timeout", "45s"]
        let v6 = try cluster.conntestRun(check + ["--ip-family", "ipv6"], timeout: 90)
        XCTAssertEqual(v6.status, 1, "IPv6 not forwarded, the IPv6 run must fail: \(v6.stdout)\(v6.stderr)")
        XCTAssertEqual(try RunReport(json: v6.stdout).result("pod-to-b-multi-node-clusterip"), "fail")
        let v4 = try cluster.conntestRun(check, timeout: 90)
        XCTAssertEqual(v4.status, 0, "IPv4 is untouched: \(v4.stdout)\(v4.stderr)")
    }

    /// A node whose data plane is black-holed (the control plane still reaches it, so it stays Ready
    /// and its kubelet keeps writing status): on two nodes every multi-node check crosses the hole
    /// and fails, every intra-node check stays on its node and passes, and cilium-health on the
    /// other node shows the same node unreachable.
    func testBlackHoledDataPlaneFailsExactlyTheMultiNodeChecks() throws {
        guard (try? ControlPlaneBinaries.locate()) != nil else { return XCTFail("run scripts/build-kubernetes.sh") }
        let cluster = try ClusterFixture(nodes: 2, kubernetes: true)
        defer { cluster.down() }
        // cilium-cli's cilium-health scenario passes first: the agents serve each node's health
        // socket on its hostPath, where the check's pods probe it.
        let healthy = try cluster.conntestRun(["--health-check", "-t", "name=pod-to-a", "-o", "json", "--timeout", "60s"], timeout: 120)
        XCTAssertEqual(healthy.status, 0, healthy.stdout + healthy.stderr)
        XCTAssertEqual(try RunReport(json: healthy.stdout).checks.filter { $0.name.hasPrefix("cilium-health-") && $0.result == "pass" }.count,
                       2, healthy.stdout)

        try cluster.fault("node-2", ["--drop", "dataplane"])
        let run = try cluster.conntestRun(["--health-check", "-o", "json", "--timeout", "60s"], timeout: 120)
        XCTAssertEqual(run.status, 1, run.stdout + run.stderr)
        let report = try RunReport(json: run.stdout)
        let multi = report.checks.filter { $0.topology == "multi-node" && $0.result != "skipped" }
        let intra = report.checks.filter { $0.topology == "intra-node" && $0.result != "skipped" }
        XCTAssertGreaterThanOrEqual(multi.count, 4, run.stdout)
        XCTAssertGreaterThanOrEqual(intra.count, 1, run.stdout)
        for check in multi {
            XCTAssertEqual(check.result, "fail", "\(check.name) crosses the black hole: \(check.reason ?? "")")
        }
        for check in intra {
            XCTAssertEqual(check.result, "pass", "\(check.name) never leaves its node: \(check.reason ?? "")")
        }
        // The report says why, in the probe's own words.
        XCTAssertTrue(multi.contains { $0.lastFailure?.contains("probe failed: curl: (28)") == true }, run.stdout)
        // Both nodes' cilium-health see the other unreachable: the scenario fails on each, in cilium-cli's words.
        for node in ["node-1", "node-2"] {
            let check = try XCTUnwrap(report.check("cilium-health-\(node)"), run.stdout)
            XCTAssertEqual(check.result, "fail", run.stdout)
            XCTAssertTrue(check.lastFailure?.contains("Readiness probe failed: connectivity to path '") == true
                          && check.lastFailure?.contains("is unhealthy") == true, check.lastFailure ?? "no probe output")
        }
        XCTAssertEqual(try cluster.kubectl(["get", "node", "node-2", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]),
                       "True", "the control plane still reaches node-2")

        // cilium-health on node-1 shows node-2 unreachable, from its own probes.
        let victim = "\(cluster.name)/node-2"
        try cluster.eventually("node-1 reports node-2 unreachable", timeout: 30) {
            (try? cluster.status("node-1"))?.nodes.first { $0.name == victim }?.isHealthy == false
        }
        try cluster.fault("node-2", ["--clear"])
        try cluster.eventually("node-2 reachable again", timeout: 30) {
            (try? cluster.status("node-1"))?.nodes.first { $0.name == victim }?.isHealthy == true
        }
    }
}
