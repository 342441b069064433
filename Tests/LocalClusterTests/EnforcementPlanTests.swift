import Agent
import ConnTest
import ConnTestLocal
import XCTest

/// The pure datapath plan of `conntest run` (no namespaces, no BPF).
final class EnforcementPlanTests: XCTestCase {
    func testDefaultWorkloadRulesCoverClusterIPAndDNS() throws {
        let resources = try Variant.default.resources()
        let plan = try RunPlan(workload: try RunWorkload(resources: resources), nodeCount: 3,
                               capabilities: LocalCapabilities(policyEnforcement: true))
        let spec = ClusterSpec.plan(name: "x", nodeCount: 3, ipv6: false, probeRatio: 0)
        let addresses = try PodAddressPlan(plan: plan, cluster: spec)
        let services = ServicePlan(workload: plan.workload, addresses: addresses, cluster: spec)
        let enforcement = try EnforcementPlan(resources: resources, plan: plan, addresses: addresses, services: services)

        let echoA = try XCTUnwrap(addresses.pods["echo-a"]?.ipv4)
        let clusterIP = try XCTUnwrap(services.clusterIPs["echo-a"])
        // Every replica is kube-dns, so the DNS rule allows each node's replica.
        let dnsRules = addresses.dnsPods.map { PolicyRuleSpec(direction: .egress, cidr: "\($0.ipv4)/32", proto: .any, port: 53) }
        XCTAssertEqual(dnsRules.count, 3)

        let denied = try XCTUnwrap(enforcement.endpoint("pod-to-a-denied-cnp"))
        XCTAssertTrue(denied.egressEnforced)
        XCTAssertFalse(denied.ingressEnforced)
        XCTAssertEqual(Set(denied.rules), Set(dnsRules), "DNS only: nothing to echo-a")

        let allowed = try XCTUnwrap(enforcement.endpoint("pod-to-a-allowed-cnp"))
        XCTAssertTrue(allowed.egressEnforced)
        XCTAssertEqual(Set(allowed.rules), Set(dnsRules + [
            PolicyRuleSpec(direction: .egress, cidr: "\(echoA)/32", proto: .tcp, port: 8080),
            // tc sees the ClusterIP before the node's DNAT.
            PolicyRuleSpec(direction: .egress, cidr: "\(clusterIP)/32", proto: .tcp, port: 8080),
        ]))

        for replica in addresses.dnsPods {
            let kubeDNS = try XCTUnwrap(enforcement.endpoint(replica.name))
            XCTAssertEqual(kubeDNS.ipv4, replica.ipv4)
            XCTAssertEqual(kubeDNS.node, replica.node)
            XCTAssertFalse(kubeDNS.egressEnforced || kubeDNS.ingressEnforced)
        }
        XCTAssertNil(enforcement.endpoint("echo-b-host"), "hostNetwork pods have no veth")
        XCTAssertNil(enforcement.endpoint("pod-to-external-fqdn-allow-google-cnp"), "skipped checks are not deployed")
        XCTAssertEqual(Set(enforcement.endpoints.map(\.id)).count, enforcement.endpoints.count)
        XCTAssertEqual(enforcement.endpoint("echo-a")?.hostInterface, PodNetwork.hostInterface(pod: "echo-a"))
    }
}
