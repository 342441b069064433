import Agent
import Foundation
import XCTest

/// The local cluster as a real Kubernetes cluster: etcd, kube-apiserver, controller-manager and
/// scheduler from the build cache, our agents as its nodes. Everything is read back the way a
/// user would, with kubectl against the kubeconfig `cluster up` wrote.
final class KubernetesControlPlaneTests: XCTestCase {
    override func setUpWithError() throws {
        guard (try? ControlPlaneBinaries.locate()) != nil else {
            // CI builds them (scripts/test.sh runs scripts/build-kubernetes.sh); a failing locate here is a setup error.
            XCTFail("control plane not built: run `bash scripts/build-kubernetes.sh`")
            throw XCTSkip("control plane binaries missing")
        }
    }

    func testNodesJoinReadyWithAddressesCIDRsAndLeases() throws {
        let cluster = try ClusterFixture(nodes: 3, ipv6: true, kubernetes: true)
        defer { cluster.down() }
        XCTAssertTrue(FileManager.default.fileExists(atPath: cluster.layout.kubeconfigPath))

        let nodes = try cluster.kubectlJSON(["get", "nodes", "-o", "json"])
        let items = try XCTUnwrap(nodes["items"] as? [[String: Any]])
        XCTAssertEqual(items.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }.sorted(),
                       ["node-1", "node-2", "node-3"])
        for (i, node) in items.sorted(by: { name($0) < name($1) }).enumerated() {
            let n = i + 1
            let meta = try XCTUnwrap(node["metadata"] as? [String: Any])
            XCTAssertEqual((meta["labels"] as? [String: String])?["kubernetes.io/hostname"], "node-\(n)")
            let spec = try XCTUnwrap(node["spec"] as? [String: Any])
            XCTAssertEqual(spec["podCIDR"] as? String, "198.19.\(n).0/24")
            XCTAssertEqual(spec["podCIDRs"] as? [String], ["198.19.\(n).0/24", "fd00:199:0:\(n)::/64"])
            let status = try XCTUnwrap(node["status"] as? [String: Any])
            let internalIPs = (status["addresses"] as? [[String: String]] ?? []).filter { $0["type"] == "InternalIP" }.compactMap { $0["address"] }
            XCTAssertEqual(internalIPs, ["198.18.0.\(10 + n)", "fd00:198::\(10 + n)"], "InternalIP for both families")
            let ready = (status["conditions"] as? [[String: Any]] ?? []).first { $0["type"] as? String == "Ready" }
            XCTAssertEqual(ready?["status"] as? String, "True")
            XCTAssertEqual(ready?["reason"] as? String, "KubeletReady")
        }

        // Leases are renewed every 2 s: two reads 3 s apart see a newer renewTime.
        let first = try cluster.kubectl(["get", "lease", "-n", "kube-node-lease", "node-2", "-o", "jsonpath={.spec.holderIdentity} {.spec.renewTime}"])
        Thread.sleep(forTimeInterval: 3)
        let second = try cluster.kubectl(["get", "lease", "-n", "kube-node-lease", "node-2", "-o", "jsonpath={.spec.renewTime}"])
        XCTAssertTrue(first.hasPrefix("node-2 "), first)
        XCTAssertGreaterThan(second, String(first.dropFirst("node-2 ".count)), "the lease is renewed")

        // `kubectl get nodes` wide output, as a user reads it.
        let wide = try cluster.kubectl(["get", "nodes", "-o", "wide"])
        XCTAssertEqual(wide.split(separator: "\n").filter { $0.contains(" Ready ") }.count, 3, wide)
        XCTAssertTrue(wide.contains("198.18.0.12"), wide)
    }

    /// The seed manifests apply as they do on a Cilium cluster (the CNP CRD is installed, and the
    /// patched apiserver survives serialising custom resources), and the real scheduler places pods.
    func testConnectivityCheckManifestAppliesAndPodsAreScheduled() throws {
        let cluster = try ClusterFixture(nodes: 2, kubernetes: true)
        defer { cluster.down() }
        _ = try cluster.kubectl(["create", "namespace", "cilium-test"])
        let manifest = ClusterNaming.repositoryRoot + "/examples/connectivity-check/connectivity-check.yaml"
        let applied = try cluster.kubectl(["apply", "-n", "cilium-test", "-f", manifest])
        XCTAssertTrue(applied.contains("ciliumnetworkpolicy.cilium.io/pod-to-a-denied-cnp created"), applied)
        XCTAssertTrue(applied.contains("deployment.apps/echo-a created"), applied)
        let cnps = try cluster.kubectl(["get", "cnp", "-n", "cilium-test", "-o", "name"])
        XCTAssertEqual(cnps.split(separator: "\n").count, 3, cnps)

        // Deployments → ReplicaSets → Pods (controller-manager) → nodeName (scheduler).
        let deadline = Date().addingTimeInterval(30)
        var placed = ""
        while Date() < deadline {
            placed = try cluster.kubectl(["get", "pods", "-n", "cilium-test", "-l", "name=echo-a", "-o", "jsonpath={.items[*].spec.nodeName}"])
            if placed.hasPrefix("node-") { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertTrue(placed.hasPrefix("node-"), "echo-a was never scheduled: '\(placed)'")
    }

    /// As upstream: a node whose kubelet stops renewing its lease goes NotReady (Unknown) after
    /// the node-monitor grace period (10 s here), and only that node. The supervisor (our kubelet,
    /// which would restart the agent within 2 s) is stopped first, as when the whole node is gone.
    func testKilledAgentsNodeGoesNotReady() throws {
        let cluster = try ClusterFixture(nodes: 2, kubernetes: true)
        defer { cluster.down() }
        AgentSupervisor(layout: cluster.layout).stop()
        let pid = try XCTUnwrap(DetachedProcess.readPidfile(cluster.layout.agentPidfile("node-2")))
        kill(pid, SIGKILL)
        let started = Date()
        var ready = ""
        while Date().timeIntervalSince(started) < 40 {
            ready = try cluster.kubectl(["get", "node", "node-2", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"])
            if ready == "Unknown" { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        print("node-2 NotReady \(String(format: "%.1f", Date().timeIntervalSince(started))) s after its agent was killed")
        XCTAssertEqual(ready, "Unknown")
        let reason = try cluster.kubectl(["get", "node", "node-2", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}"])
        XCTAssertEqual(reason, "NodeStatusUnknown")
        let others = try cluster.kubectl(["get", "node", "node-1", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"])
        XCTAssertEqual(others, "True")
        let wide = try cluster.kubectl(["get", "nodes"])
        XCTAssertTrue(wide.contains("NotReady"), wide)
    }

    /// As kubelet and Cilium do, agents outlive their apiserver: a `kill -9`'d apiserver leaves the
    /// nodes' agents and health probing running, and `cluster up` restarts only the dead component
    /// on etcd's data (objects survive), after which every node heartbeats Ready again.
    func testAgentsSurviveApiserverKillAndUpRestartsOnlyIt() throws {
        let cluster = try ClusterFixture(nodes: 2, kubernetes: true)
        defer { cluster.down() }
        _ = try cluster.kubectl(["create", "namespace", "survives-restart"])
        // The view the agents have before the outage is what they must keep.
        try cluster.eventually("node-1's health view complete", timeout: 20) { try cluster.status("node-1").nodes.count == 2 }
        let agents = try ["node-1", "node-2"].map { try XCTUnwrap(DetachedProcess.readPidfile(cluster.layout.agentPidfile($0))) }
        let etcd = try XCTUnwrap(DetachedProcess.readPidfile(cluster.layout.controlPlaneDir + "/etcd.pid"))
        let apiserver = try XCTUnwrap(DetachedProcess.readPidfile(cluster.layout.controlPlaneDir + "/kube-apiserver.pid"))
        kill(apiserver, SIGKILL)
        Thread.sleep(forTimeInterval: 3)

        XCTAssertTrue(agents.allSatisfy(DetachedProcess.isAlive), "agents must not die with the apiserver")
        XCTAssertEqual(try cluster.status("node-1", probe: true).nodes.count, 2, "health probing goes on")
        let log = try String(contentsOfFile: cluster.layout.agentLog("node-1"), encoding: .utf8)
        XCTAssertTrue(log.contains("apiserver heartbeat failed"), "the agent says why its heartbeats fail")

        let up = try cluster.agent(["cluster", "up", "--name", cluster.name, "--nodes", "2", "--probe-ratio", "0"], timeout: 120)
        XCTAssertEqual(up.status, 0, up.stderr)
        XCTAssertTrue(up.stdout.contains("restarting kube-apiserver"), up.stdout)
        XCTAssertTrue(up.stdout.contains("repaired"), up.stdout)
        XCTAssertEqual(agents.map { DetachedProcess.readPidfile(cluster.layout.agentPidfile($0 == agents[0] ? "node-1" : "node-2")) },
                       agents, "agents were not restarted")
        XCTAssertEqual(DetachedProcess.readPidfile(cluster.layout.controlPlaneDir + "/etcd.pid"), etcd, "etcd kept running")
        XCTAssertEqual(try cluster.kubectl(["get", "namespace", "survives-restart", "-o", "jsonpath={.metadata.name}"]),
                       "survives-restart")
        let ready = try cluster.kubectl(["get", "nodes", "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Ready\")].status}"])
        XCTAssertEqual(ready, "True True")
        let log2 = try String(contentsOfFile: cluster.layout.agentLog("node-1"), encoding: .utf8)
        XCTAssertTrue(log2.contains("apiserver heartbeat recovered"), "the agent resumed on its own")
    }

    /// On a cluster with a control plane the agents learn their peers from the Kubernetes API, not
    /// the cluster file: a Node created with kubectl is probed by cilium-health, and dropped when
    /// it is deleted. (node-9 has no route from the nodes, so its probes fail inside the namespaces.)
    func testHealthDaemonDiscoversNodesThroughKubernetes() throws {
        let cluster = try ClusterFixture(nodes: 2, kubernetes: true)
        defer { cluster.down() }
        var names = try cluster.status("node-1", probe: true).nodes.map(\.name)
        XCTAssertEqual(names, ["\(cluster.name)/node-1", "\(cluster.name)/node-2"])
        let health = try XCTUnwrap(cluster.status("node-1").nodes.first { $0.name.hasSuffix("/node-2") }?.healthEndpoint)
        XCTAssertEqual(health.primaryAddress?.ip, "198.19.2.2", "health IP from node-2's annotation")

        let manifest = cluster.layout.clusterDir + "/node-9.json"
        try #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-9","annotations":{"network.cilium.io/ipv4-health-ip":"198.19.9.2"}}}"#
            .write(toFile: manifest, atomically: true, encoding: .utf8)
        _ = try cluster.kubectl(["create", "-f", manifest])
        _ = try cluster.kubectl(["patch", "node", "node-9", "--subresource=status", "--type=merge", "-p",
                                 #"{"status":{"addresses":[{"type":"InternalIP","address":"198.18.0.19"}]}}"#])
        let withNine = try cluster.status("node-1", probe: true)
        names = withNine.nodes.map(\.name)
        XCTAssertEqual(names, ["\(cluster.name)/node-1", "\(cluster.name)/node-2", "\(cluster.name)/node-9"])
        let nine = try XCTUnwrap(withNine.nodes.first { $0.name.hasSuffix("/node-9") })
        XCTAssertEqual(nine.host?.primaryAddress?.ip, "198.18.0.19")
        XCTAssertNotEqual(nine.host?.primaryAddress?.icmp?.status, "", "node-9 does not exist: unreachable")

        _ = try cluster.kubectl(["delete", "node", "node-9"])
        names = try cluster.status("node-1", probe: true).nodes.map(\.name)
        XCTAssertEqual(names, ["\(cluster.name)/node-1", "\(cluster.name)/node-2"])
    }

    /// A machine without the build is told how to make it, and nothing is created.
    func testMissingBuildSaysHowToMakeItAndCreatesNothing() throws {
        let scratch = ClusterNaming.Scratch()
        defer { scratch.remove() }
        let r = try Command.run(["env", "NETHEALTH_STATE_DIR=\(scratch.stateDir)", "NETHEALTH_K8S_BIN=/nonexistent/bin",
                                 "\(ClusterNaming.binDir)/agent", "cluster", "up", "--name", scratch.name, "--nodes", "1"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("scripts/build-kubernetes.sh"), r.stderr)
        XCTAssertTrue(r.stderr.contains("--no-kubernetes"), r.stderr)
        XCTAssertEqual(Netns.list().filter(scratch.layout.ownsNamespace), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.layout.specPath))
    }

    /// A cluster's control plane cannot be added or dropped by a second `up`: that is a new cluster.
    /// Left out, the option keeps what the running cluster has.
    func testUpRefusesToSwitchControlPlaneOnARunningCluster() throws {
        let cluster = try ClusterFixture(nodes: 1)
        defer { cluster.down() }
        let r = try cluster.agent(["cluster", "up", "--name", cluster.name, "--nodes", "1", "--kubernetes"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("it has no Kubernetes control plane, --kubernetes was asked for"), r.stderr)
        let keep = try cluster.agent(["cluster", "up", "--name", cluster.name, "--nodes", "1"])
        XCTAssertEqual(keep.status, 0, keep.stderr)
        XCTAssertTrue(keep.stdout.contains("already up"), keep.stdout)
    }

    private func name(_ node: [String: Any]) -> String { (node["metadata"] as? [String: Any])?["name"] as? String ?? "" }
}

extension ClusterFixture {
    /// kubectl on the host, against the cluster's admin kubeconfig (the apiserver's host-loopback forward).
    func kubectl(_ args: [String], timeout: TimeInterval = 30) throws -> String {
        let r = try Command.run(["env", "KUBECONFIG=\(layout.kubeconfigPath)", "kubectl"] + args, timeout: timeout)
        guard r.status == 0 else { throw AgentError("kubectl \(args.joined(separator: " ")) failed (\(r.status)): \(r.stderr)") }
        return r.stdout
    }

    func kubectlJSON(_ args: [String]) throws -> [String: Any] {
        let text = try kubectl(args)
        guard let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw AgentError("kubectl \(args) did not print a JSON object")
        }
        return obj
    }
}
