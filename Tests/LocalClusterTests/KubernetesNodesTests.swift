@testable import Agent
import HealthAPI
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
}
