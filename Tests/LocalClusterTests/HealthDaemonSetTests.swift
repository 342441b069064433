import Agent
import Foundation
import HTTPSupport
import HealthAPI
import XCTest

/// deploy/ on the local cluster's real control plane: the agents leave health to the DaemonSets
/// (`--health daemonset`), kubectl applies them, the agents' kubelets run our binaries with the
/// service account's in-cluster config, and every node's cilium-health learns the cluster from the
/// Kubernetes API alone (its node names carry the DaemonSet's cluster name, `default/`, not the
/// local cluster's).
final class HealthDaemonSetTests: XCTestCase {
    static let manifest = ClusterNaming.repositoryRoot + "/deploy/cilium-health.yaml"

    func testDaemonSetsProbeEveryNodeAndFollowNodeObjects() async throws {
        guard (try? ControlPlaneBinaries.locate()) != nil else { return XCTFail("run scripts/build-kubernetes.sh") }
        let cluster = try ClusterFixture(nodes: 3, kubernetes: true, extraUpArguments: ["--health", "daemonset"])
        defer {
            cluster.down()
            let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
            XCTAssertFalse(mounts.contains(cluster.stateDir), "a container's bind mount leaked into the host's mount namespace")
        }
        let nodes = ["node-1", "node-2", "node-3"]
        XCTAssertNotEqual(try cluster.ciliumHealth("node-1", ["status"]).status, 0,
                          "with --health daemonset the agents serve no health API of their own")

        _ = try cluster.kubectl(["apply", "-f", Self.manifest])
        let started = Date()
        for node in nodes {
            try cluster.eventually("\(node)'s cilium-health lists every node reachable", timeout: 120) {
                let status = try cluster.status(node)
                return status.nodes.count == 3 && status.nodes.allSatisfy { $0.name.hasPrefix("default/") && $0.isFullyReachable }
            }
        }
        print("health DaemonSets: every node's cilium-health shows 3/3 reachable \(String(format: "%.1f", Date().timeIntervalSince(started))) s after kubectl apply")
        let text = try cluster.ciliumHealth("node-2", ["status"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("3/3 reachable"), text.stdout)
        XCTAssertTrue(text.stdout.contains("default/node-2 (localhost)"), text.stdout)

        // cilium-cli's cilium-health scenario through a kubeconfig, as on any cluster: the DaemonSet
        // is found by its label (no --health-check), and per node a pod of its image probes the
        // socket it serves on its hostPath; every node's view complete and healthy → pass.
        let scenario = try cluster.conntestRunKube(cluster.layout.kubeconfigPath, ["-t", "component=health", "-o", "json", "--timeout", "60s"],
                                                   timeout: 120)
        XCTAssertEqual(scenario.status, 0, scenario.stdout + scenario.stderr)
        XCTAssertTrue(scenario.stderr.contains("health daemon: DaemonSet nethealth/cilium-health, 3/3 pods ready, socket /var/run/cilium-health/health.sock"),
                      scenario.stderr)
        let perNode = try RunReport(json: scenario.stdout).checks.filter { $0.name.hasPrefix("cilium-health-") }
        XCTAssertEqual(perNode.map(\.name), ["cilium-health-node-1", "cilium-health-node-2", "cilium-health-node-3"], scenario.stdout)
        XCTAssertTrue(perNode.allSatisfy { $0.result == "pass" }, scenario.stdout)

        // A Node object with no agent behind it: listed within a second, NotReady, not probed.
        let socket = cluster.layout.nodeHostPath("node-1", KubernetesHealthDaemon.socketDirectory + "/health.sock")
        let health = APIClient(endpoint: .unix(path: socket), timeout: .seconds(2))
        let ghost = cluster.layout.clusterDir + "/ghost-node.yaml"
        try """
            apiVersion: v1
            kind: Node
            metadata: {name: node-9, labels: {kubernetes.io/hostname: node-9}}
            status:
              addresses: [{type: InternalIP, address: 198.18.0.99}]
            """.write(toFile: ghost, atomically: true, encoding: .utf8)
        let beforeKubectl = Date()
        _ = try cluster.kubectl(["create", "-f", ghost])
        let kubectlTook = Date().timeIntervalSince(beforeKubectl)
        let latency = try await waitForView(health, timeout: 5) { $0.nodes.contains { $0.name == "default/node-9" } }
        print("node-appears latency: \(String(format: "%.0f", latency * 1000)) ms from the Node's creation (kubectl create "
              + "returned) to node-1's cilium-health status; \(String(format: "%.0f", (kubectlTook + latency) * 1000)) ms "
              + "counting kubectl's own start")
        XCTAssertLessThan(latency, 1.0, "a new Node must show within a second of its object")
        let view = try await healthStatus(health)
        let listed = try XCTUnwrap(view.nodes.first { $0.name == "default/node-9" })
        XCTAssertEqual(listed.nodeState, ["NotReady"])
        XCTAssertTrue(listed.notProbed)
        let withGhost = try cluster.ciliumHealth("node-1", ["status"]).stdout
        XCTAssertTrue(withGhost.contains("3/3 reachable"), "a NotReady node is not counted unreachable:\n\(withGhost)")
        XCTAssertTrue(withGhost.contains("(1 not probed: cordoned or NotReady)"), withGhost)

        // Cordoned: shown as unschedulable, not unreachable; uncordoned: probed again.
        _ = try cluster.kubectl(["cordon", "node-3"])
        try await waitForView(health, timeout: 5) { s in
            s.nodes.contains { $0.name == "default/node-3" && $0.nodeState == ["Unschedulable"] && $0.notProbed }
        }
        let cordoned = try cluster.ciliumHealth("node-1", ["status"]).stdout
        XCTAssertTrue(cordoned.contains("2/2 reachable"), cordoned)
        let row = try XCTUnwrap(cordoned.split(separator: "\n").first { $0.contains("default/node-3") }, cordoned)
        XCTAssertTrue(row.contains("Unschedulable") && row.contains("not probed"), String(row))
        _ = try cluster.kubectl(["uncordon", "node-3"])
        try await waitForView(health, timeout: 30) { s in
            s.nodes.contains { $0.name == "default/node-3" && $0.nodeState == nil && $0.isFullyReachable }
        }

        // Deleted: dropped.
        _ = try cluster.kubectl(["delete", "node", "node-9"])
        try await waitForView(health, timeout: 5) { !$0.nodes.contains { $0.name == "default/node-9" } }
        let final = try await healthStatus(health)
        XCTAssertEqual(final.nodes.map(\.name).sorted(), nodes.map { "default/\($0)" })

        // node-2's agent dies and the supervisor restarts it: its kubelet takes the pods over, and
        // node-2 still has exactly one health daemon, with the whole view.
        let oldAgent = try XCTUnwrap(DetachedProcess.readPidfile(cluster.layout.agentPidfile("node-2")))
        kill(oldAgent, SIGKILL)
        try cluster.eventually("node-2's agent restarted", timeout: 30) {
            DetachedProcess.readPidfile(cluster.layout.agentPidfile("node-2")).map { $0 != oldAgent && DetachedProcess.isAlive($0) } == true
        }
        func daemons(_ node: String) -> Int {
            Netns.pids(cluster.layout.nodeNamespace(node)).filter { pid in
                ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("kubernetes-health")
            }.count
        }
        try cluster.eventually("one health daemon on node-2 with every node reachable", timeout: 60) {
            let status = try cluster.status("node-2")
            return daemons("node-2") == 1 && status.nodes.count == 3 && status.nodes.allSatisfy(\.isFullyReachable)
        }
    }

    private func healthStatus(_ client: APIClient) async throws -> HealthStatusResponse {
        try await client.json(.GET, "/v1beta/status", as: HealthStatusResponse.self)
    }

    /// Polls the health API every 10 ms until `condition`; the seconds it took.
    @discardableResult
    private func waitForView(_ client: APIClient, timeout: TimeInterval,
                             _ condition: (HealthStatusResponse) -> Bool) async throws -> TimeInterval {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            if let s = try? await healthStatus(client), condition(s) { return Date().timeIntervalSince(start) }
            try await Task.sleep(for: .milliseconds(10))
        }
        let last = (try? await healthStatus(client)).map { "\($0.nodes.map { "\($0.name) \($0.nodeState ?? [])" })" } ?? "no answer"
        XCTFail("health view did not change as expected within \(timeout) s; last: \(last)")
        throw AgentError("timed out")
    }
}

extension NodeStatus {
    /// Every host and endpoint path answered ICMP and HTTP, and the node has a health endpoint.
    var isFullyReachable: Bool {
        !notProbed && healthEndpoint?.primaryAddress != nil && !allPaths.isEmpty && allPaths.allSatisfy(\.fullyReachable)
    }
}
