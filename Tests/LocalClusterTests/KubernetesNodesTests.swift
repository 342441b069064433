@testable import Agent
import HealthAPI
import HealthDaemon
import KubeClient
import XCTest

/// How a Node object becomes the agent API's node (what cilium-health probes), without a cluster.
final class KubernetesNodesTests: XCTestCase {
    func node(_ addresses: [(String, String)], annotations: [String: String] = [:], cidrs: [String] = []) -> Node {
        Node(metadata: ObjectMeta(name: "n1", annotations: annotations),
             spec: Node.Spec(podCIDR: cidrs.first, podCIDRs: cidrs),
             status: Node.Status(addresses: addresses.map { Node.Address(type: $0.0, address: $0.1) }))
    }

    func testInternalIPsArePrimaryPerFamilyAndTheRestSecondary() throws {
        let n = node([("Hostname", "n1"), ("ExternalIP", "198.18.7.1"), ("InternalIP", "198.18.0.11"),
                      ("InternalIP", "fd00:198::11")],
                     annotations: ["network.cilium.io/ipv4-health-ip": "198.19.1.2", "network.cilium.io/ipv6-health-ip": "fd00:199:0:1::2"],
                     cidrs: ["198.19.1.0/24", "fd00:199:0:1::/64"])
        let e = try XCTUnwrap(KubernetesNodes.element(n, cluster: "c"))
        XCTAssertEqual(e.name, "c/n1")
        XCTAssertEqual(e.primaryAddress?.ipv4?.ip, "198.18.0.11")
        XCTAssertEqual(e.primaryAddress?.ipv4?.addressType, "InternalIP")
        XCTAssertEqual(e.primaryAddress?.ipv6?.ip, "fd00:198::11")
        XCTAssertEqual(e.secondaryAddresses?.map(\.ip), ["198.18.7.1"], "ExternalIP is probed too, as a secondary")
        XCTAssertEqual(e.healthEndpointAddress?.ipv4?.ip, "198.19.1.2")
        XCTAssertEqual(e.healthEndpointAddress?.ipv4?.allocRange, "198.19.1.0/24")
        XCTAssertEqual(e.healthEndpointAddress?.ipv6?.allocRange, "fd00:199:0:1::/64")
    }

    func testExternalOnlyNodesLegacyAnnotationsAndNodesWithoutAddresses() throws {
        let ext = try XCTUnwrap(KubernetesNodes.element(node([("ExternalIP", "198.18.9.9")],
                                                             annotations: ["io.cilium.network.ipv4-health-ip": "198.19.9.2"]),
                                                        cluster: "c"))
        XCTAssertEqual(ext.primaryAddress?.ipv4?.ip, "198.18.9.9")
        XCTAssertEqual(ext.healthEndpointAddress?.ipv4?.ip, "198.19.9.2", "the legacy annotation spelling is read")
        XCTAssertNil(KubernetesNodes.element(node([("Hostname", "n1")]), cluster: "c"), "nothing to probe")
        XCTAssertNil(KubernetesNodes.element(node([("InternalIP", "198.18.0.11")]), cluster: "c")?.healthEndpointAddress)
    }

    func pod(_ name: String, on node: String, ips: [String], phase: String = "Running", deleting: Bool = false) throws -> Pod {
        var meta: [String: Any] = ["name": name, "namespace": "nethealth"]
        if deleting { meta["deletionTimestamp"] = "2026-01-01T00:00:00Z" }
        let json: [String: Any] = [
            "metadata": meta, "spec": ["nodeName": node, "containers": [["name": "responder"]]],
            "status": ["phase": phase, "podIP": ips.first as Any, "podIPs": ips.map { ["ip": $0] }],
        ]
        return try JSONDecoder().decode(Pod.self, from: JSONSerialization.data(withJSONObject: json))
    }

    func ready(_ n: Node, _ status: String = "True", unschedulable: Bool = false) -> Node {
        var n = n
        n.status?.conditions = [Node.Condition(type: "Ready", status: status, reason: nil, message: nil,
                                               lastHeartbeatTime: nil, lastTransitionTime: nil)]
        n.spec?.unschedulable = unschedulable
        return n
    }

    func testTheEndpointPodIsTheHealthEndpointBeforeCiliumNodeAndAnnotations() throws {
        let n = ready(node([("InternalIP", "198.18.0.11")], annotations: ["network.cilium.io/ipv4-health-ip": "198.19.1.2"],
                           cidrs: ["198.19.1.0/24", "fd00:199:0:1::/64"]))
        let cilium = CiliumNode(metadata: ObjectMeta(name: "n1"), spec: .init(health: .init(ipv4: "198.19.1.3", ipv6: nil)))
        let endpoint = try pod("ep-a", on: "n1", ips: ["198.19.1.100", "fd00:199:0:1::100"])
        let others = [try pod("ep-other-node", on: "n2", ips: ["198.19.2.100"]),
                      try pod("ep-b-deleting", on: "n1", ips: ["198.19.1.101"], deleting: true),
                      try pod("ep-c-pending", on: "n1", ips: [])]

        let all = KubernetesNodes.elements(nodes: [n], endpointPods: others + [endpoint], ciliumNodes: [cilium], cluster: "c")
        XCTAssertEqual(all.count, 1)
        XCTAssertEqual(all.first?.healthEndpointAddress?.ipv4?.ip, "198.19.1.100", "the node's own, serving endpoint pod")
        XCTAssertEqual(all.first?.healthEndpointAddress?.ipv6?.ip, "fd00:199:0:1::100")
        XCTAssertEqual(all.first?.healthEndpointAddress?.ipv4?.allocRange, "198.19.1.0/24")
        XCTAssertNil(all.first?.nodeState, "Ready and schedulable")

        let noPod = KubernetesNodes.elements(nodes: [n], endpointPods: others, ciliumNodes: [cilium], cluster: "c")
        XCTAssertEqual(noPod.first?.healthEndpointAddress?.ipv4?.ip, "198.19.1.3", "CiliumNode spec.health without our pod")
        let neither = KubernetesNodes.elements(nodes: [n], endpointPods: [], ciliumNodes: [], cluster: "c")
        XCTAssertEqual(neither.first?.healthEndpointAddress?.ipv4?.ip, "198.19.1.2", "the annotation as the last resort")
    }

    func testNotReadyAndCordonedNodesCarryTheirState() {
        let base = node([("InternalIP", "198.18.0.11")])
        XCTAssertEqual(KubernetesNodes.element(base, cluster: "c")?.nodeState, ["NotReady"], "no Ready condition yet")
        XCTAssertEqual(KubernetesNodes.element(ready(base, "Unknown"), cluster: "c")?.nodeState, ["NotReady"])
        XCTAssertEqual(KubernetesNodes.element(ready(base, unschedulable: true), cluster: "c")?.nodeState, ["Unschedulable"])
        XCTAssertEqual(KubernetesNodes.element(ready(base, "False", unschedulable: true), cluster: "c")?.nodeState,
                       ["NotReady", "Unschedulable"])
        XCTAssertNil(KubernetesNodes.element(ready(base), cluster: "c")?.nodeState)
    }

    /// The diff a health daemon gets when a node is cordoned: the node changes (removed + added), so
    /// the prober stops probing it and lists it with its state.
    func testCordoningIsADiffTheProberActsOn() async throws {
        let tracker = NodeDiffTracker()
        let n = ready(node([("InternalIP", "198.18.0.11")]))
        let before = try XCTUnwrap(KubernetesNodes.element(n, cluster: "c"))
        let first = await tracker.diff(clientID: 0, current: [before], selfName: "c/n1")
        let after = try XCTUnwrap(KubernetesNodes.element(ready(n, unschedulable: true), cluster: "c"))
        let second = await tracker.diff(clientID: first.clientID, current: [after], selfName: "c/n1")
        XCTAssertEqual(second.nodesRemoved, [before])
        XCTAssertEqual(second.nodesAdded, [after])
        let targets = NodeProbeTargets(after)
        XCTAssertTrue(targets.notProbed)
        XCTAssertEqual(targets.allIPs, [], "a cordoned node is not probed")
        XCTAssertEqual(NodeProbeTargets(after, probeUnavailable: true).allIPs, ["198.18.0.11"], "unless asked to")
    }
}
