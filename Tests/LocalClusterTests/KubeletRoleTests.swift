import Agent
import Foundation
import XCTest

/// The node agents as kubelets: Pods bound to a node (here by nodeName) get a namespace and an IP
/// from the node's podCIDR, echo containers serve, exec probes run with kubelet semantics, and
/// status and Events read back through the API as kubelet writes them.
final class KubeletRoleTests: XCTestCase {
    static let manifest = """
        apiVersion: v1
        kind: Pod
        metadata: {name: echo}
        spec:
          nodeName: node-2
          containers:
          - name: echo
            image: quay.io/cilium/json-mock:v1.3.2
            env: [{name: PORT, value: "8080"}]
            readinessProbe:
              exec: {command: ["curl", "-sS", "--fail", "-o", "/dev/null", "localhost:8080"]}
              periodSeconds: 1
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: client}
        spec:
          nodeName: node-1
          containers:
          - name: client
            image: quay.io/cilium/alpine-curl:v1.5.0
            command: ["/bin/ash", "-c", "sleep 1000000000"]
            readinessProbe:
              exec: {command: ["curl", "-sS", "--fail", "--connect-timeout", "1", "-o", "/dev/null", "198.19.2.100:8080"]}
              periodSeconds: 1
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: broken}
        spec:
          nodeName: node-1
          containers:
          - name: c
            image: quay.io/cilium/alpine-curl:v1.5.0
            readinessProbe:
              exec: {command: ["ash", "-c", "echo nope >&2; exit 1"]}
              periodSeconds: 1
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: nginx}
        spec:
          nodeName: node-1
          containers:
          - {name: web, image: "nginx:1.25"}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: tcp-open}
        spec:
          nodeName: node-2
          containers:
          - name: echo
            image: quay.io/cilium/json-mock:v1.3.2
            env: [{name: PORT, value: "8080"}]
            readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: tcp-closed}
        spec:
          nodeName: node-2
          containers:
          - name: c
            image: quay.io/cilium/alpine-curl:v1.5.0
            readinessProbe: {tcpSocket: {port: 9999}, periodSeconds: 1}
        """

    func testPodsRunProbeReportAndDelete() throws {
        guard (try? ControlPlaneBinaries.locate()) != nil else { return XCTFail("run scripts/build-kubernetes.sh") }
        let cluster = try ClusterFixture(nodes: 2, kubernetes: true)
        defer { cluster.down() }
        let path = cluster.layout.clusterDir + "/kt.yaml"
        try Self.manifest.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try cluster.kubectl(["create", "namespace", "kt"])
        try cluster.eventually("the namespace's default service account", timeout: 20) {
            (try? cluster.kubectl(["get", "serviceaccount", "default", "-n", "kt", "-o", "name"])) != nil
        }
        _ = try cluster.kubectl(["apply", "-n", "kt", "-f", path])

        func ready(_ pod: String) throws -> String {
            try cluster.kubectl(["get", "pod", pod, "-n", "kt", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"])
        }
        // A client on node-1 reaches the echo pod on node-2 through the pod network.
        try cluster.eventually("echo and client Ready", timeout: 30) { try ready("echo") == "True" && ready("client") == "True" }
        XCTAssertEqual(try cluster.kubectl(["get", "pod", "echo", "-n", "kt", "-o", "jsonpath={.status.podIP} {.status.hostIP} {.status.phase}"]),
                       "198.19.2.100 198.18.0.12 Running")
        XCTAssertTrue(Netns.exists(cluster.layout.kubePodNamespace(namespace: "kt", name: "echo")))

        // A failing readiness probe: Running 0/1, kubelet's condition wording, and the probe's own output as an Unhealthy event.
        try cluster.eventually("broken's Unhealthy event repeated", timeout: 20) {
            let counts = try cluster.kubectl(["get", "events", "-n", "kt", "--field-selector", "involvedObject.name=broken,reason=Unhealthy",
                                              "-o", "jsonpath={.items[*].count}"])
            return (Int(counts.split(separator: " ").first ?? "") ?? 0) >= 2
        }
        let event = try cluster.kubectl(["get", "events", "-n", "kt", "--field-selector", "involvedObject.name=broken,reason=Unhealthy",
                                         "-o", "jsonpath={.items[0].type}|{.items[0].message}|{.items[0].source.component}|{.items[0].involvedObject.fieldPath}"])
        XCTAssertEqual(event, "Warning|Readiness probe failed: nope|kubelet|spec.containers{c}")
        XCTAssertEqual(try cluster.kubectl(["get", "pod", "broken", "-n", "kt", "-o",
                                            "jsonpath={.status.phase} {.status.conditions[?(@.type==\"Ready\")].reason} {.status.conditions[?(@.type==\"Ready\")].message}"]),
                       "Running ContainersNotReady containers with unready status: [c]")
        let describe = try cluster.kubectl(["describe", "pod", "broken", "-n", "kt"])
        XCTAssertTrue(describe.contains("Readiness probe failed: nope"), describe)

        // tcpSocket probes connect to the pod's IP: Ready where something listens, Unhealthy where nothing does.
        try cluster.eventually("tcp-open Ready", timeout: 30) { try ready("tcp-open") == "True" }
        try cluster.eventually("tcp-closed's Unhealthy event", timeout: 20) {
            try cluster.kubectl(["get", "events", "-n", "kt", "--field-selector", "involvedObject.name=tcp-closed,reason=Unhealthy",
                                 "-o", "jsonpath={.items[*].message}"]).contains("Readiness probe failed:")
        }
        XCTAssertEqual(try ready("tcp-closed"), "False")

        // An image that cannot run here is Waiting with a reason that says so.
        XCTAssertEqual(try cluster.kubectl(["get", "pod", "nginx", "-n", "kt", "-o",
                                            "jsonpath={.status.phase} {.status.containerStatuses[0].state.waiting.reason}"]),
                       "Pending ImageNotRunnableLocally")

        // Deletion: the agent stops the pod, removes its namespace and finishes the delete; the client notices.
        _ = try cluster.kubectl(["delete", "pod", "echo", "-n", "kt", "--wait=true", "--timeout=20s"])
        XCTAssertFalse(Netns.exists(cluster.layout.kubePodNamespace(namespace: "kt", name: "echo")))
        try cluster.eventually("client unready once echo is gone", timeout: 20) { try ready("client") == "False" }
    }
}

extension ClusterFixture {
    /// Polls `condition` every 0.5 s until it holds, or fails naming `what` after `timeout` seconds.
    func eventually(_ what: String, timeout: TimeInterval, file: StaticString = #filePath, line: UInt = #line,
                    _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? condition()) == true { return }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTFail("\(what): not within \(timeout) s", file: file, line: line)
        throw AgentError("\(what): not within \(timeout) s")
    }
}
