@testable import Agent
import Foundation
import KubeClient
import XCTest

/// How the local kubelet turns one of our containers (deploy/) into a command line: the binary
/// its command names, its volumes as bind mounts, its capabilities, its downward-API env.
final class ContainerLaunchTests: XCTestCase {
    let layout = StateLayout(cluster: "c", root: NSTemporaryDirectory() + "launch-test-\(getpid())")
    let node = ClusterSpec.plan(name: "c", nodeCount: 1, ipv6: false, probeRatio: 0.5).nodes[0]

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: layout.root)
    }

    func launch(_ container: [String: Any], volumes: [[String: Any]] = []) throws -> ContainerLaunch {
        let json: [String: Any] = ["metadata": ["name": "p", "namespace": "nethealth"],
                                   "spec": ["containers": [container], "volumes": volumes, "serviceAccountName": "sa"]]
        let pod = try JSONDecoder().decode(Pod.self, from: JSONSerialization.data(withJSONObject: json))
        return ContainerLaunch(pod: pod, container: pod.spec.containers[0], node: node, layout: layout,
                               netns: "nh-c-node-1", podIP: "198.19.1.100", apiServer: "https://198.18.0.2:6443")
    }

    func testDeployedDaemonBecomesOurBinaryWithMountsAndOnlyNetRaw() throws {
        let l = try launch(["name": "d", "image": "localhost/nethealth:0.1.0", "command": ["agent", "kubernetes-health"],
                            "args": ["--metrics-port=9962"],
                            "securityContext": ["capabilities": ["drop": ["ALL"], "add": ["NET_RAW"]]],
                            "volumeMounts": [["name": "sockets", "mountPath": "/var/run/cilium-health"],
                                             ["name": "token", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true]],
                            "env": [["name": "NODE_NAME", "valueFrom": ["fieldRef": ["fieldPath": "spec.nodeName"]]],
                                    ["name": "MODE", "value": "x"]]],
                           volumes: [["name": "sockets", "hostPath": ["path": "/var/run/cilium-health", "type": "DirectoryOrCreate"]],
                                     ["name": "token", "secret": ["secretName": "sa-token-abc"]]])
        let argv = try l.argv()
        XCTAssertEqual(Array(argv.prefix(6)), ["nsenter", "--net=/run/netns/nh-c-node-1", "unshare", "--mount", "--propagation", "private"])
        let host = layout.nodeDir("node-1") + "/host/var/run/cilium-health"
        let token = layout.nodeDir("node-1") + "/pods/nethealth.p.volumes/token"
        let mounts = Array(argv.drop { $0 != "container" }.dropFirst().prefix { $0 != "--" })
        XCTAssertEqual(mounts, [host, "/var/run/cilium-health", "rw", token, "/var/run/secrets/kubernetes.io/serviceaccount", "ro"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: host), "the hostPath directory is made (DirectoryOrCreate)")
        let tail = Array(argv.drop { $0 != "--" }.dropFirst())
        XCTAssertEqual(tail, ["setpriv", "--bounding-set", "-all,+net_raw", "--",
                              DetachedProcess.executableDirectory + "/agent", "kubernetes-health", "--metrics-port=9962"])
        let env = try l.environment()
        XCTAssertEqual(env["NODE_NAME"], "node-1")
        XCTAssertEqual(env["MODE"], "x")
        XCTAssertEqual(env["KUBERNETES_SERVICE_HOST"], "198.18.0.2")
        XCTAssertEqual(env["KUBERNETES_SERVICE_PORT"], "6443")
    }

    func testWhatCannotRunLocallyIsNamed() throws {
        let foreign = try launch(["name": "c", "image": "localhost/nethealth:0.1.0", "command": ["/bin/bash"]])
        XCTAssertThrowsError(try foreign.argv()) { XCTAssertTrue("\($0)".contains("'/bin/bash', which is not one of our binaries"), "\($0)") }
        let field = try launch(["name": "c", "image": "localhost/nethealth:0.1.0", "command": ["cilium-health-responder"],
                                "env": [["name": "X", "valueFrom": ["fieldRef": ["fieldPath": "metadata.labels['a']"]]]]])
        XCTAssertThrowsError(try field.environment()) { XCTAssertTrue("\($0)".contains("fieldRef metadata.labels['a'] is not supported"), "\($0)") }
        let volume = try launch(["name": "c", "image": "localhost/nethealth:0.1.0", "command": ["cilium-health-responder"],
                                 "volumeMounts": [["name": "cfg", "mountPath": "/etc/x"]]],
                                volumes: [["name": "cfg", "configMap": ["name": "x"]]])
        XCTAssertThrowsError(try volume.argv()) { XCTAssertTrue("\($0)".contains("only hostPath and secret volumes"), "\($0)") }
        XCTAssertEqual(LocalImage("ghcr.io/x/nethealth:1.2@sha256:ab"), .ours)
    }
}
