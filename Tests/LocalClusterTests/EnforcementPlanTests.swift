import Agent
import ConnTest
import ConnTestLocal
import XCTest

/// The pure datapath plan of `conntest run` (no namespaces, no BPF).
final class EnforcementPlanTests: XCTestCase {
    struct Planned {
        var plan: RunPlan
        var spec: ClusterSpec
        var addresses: PodAddressPlan
        var services: ServicePlan
        var enforcement: EnforcementPlan
    }

    /// Every plan of a 3-node run of `resources` with policy enforced, as `conntest run` makes them.
    static func planned(_ resources: [Resource], ipv6: Bool = false) throws -> Planned {
        let plan = try RunPlan(workload: try RunWorkload(resources: resources), nodeCount: 3,
                               capabilities: LocalCapabilities(policyEnforcement: true))
        let spec = ClusterSpec.plan(name: "x", nodeCount: 3, ipv6: ipv6, probeRatio: 0)
        let addresses = try PodAddressPlan(plan: plan, cluster: spec)
        let services = ServicePlan(workload: plan.workload, addresses: addresses, cluster: spec, family: ipv6 ? .ipv6 : .ipv4)
        let enforcement = try EnforcementPlan(resources: resources, plan: plan, addresses: addresses, services: services)
        return Planned(plan: plan, spec: spec, addresses: addresses, services: services, enforcement: enforcement)
    }

    func testDefaultWorkloadRulesCoverClusterIPAndDNS() throws {
        let p = try Self.planned(try Variant.default.resources())
        let (addresses, services, enforcement) = (p.addresses, p.services, p.enforcement)

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

    /// An egress CNP allowing echo-b's pod on 8080 also allows every address that DNATs to it: the
    /// ClusterIP, each node's NodePort and the hostPort on echo-b's node (tc sees them before DNAT).
    func testBackendRuleAlsoAllowsNodePortAndHostPortPaths() throws {
        func map(_ pairs: (String, YAMLNode)...) -> YAMLNode { .map(pairs) }
        let selector = { (name: String) in map(("matchLabels", map(("name", .string(name))))) }
        let cnp = map(
            ("apiVersion", .string("cilium.io/v2")), ("kind", .string("CiliumNetworkPolicy")),
            ("metadata", map(("name", .string("nodeport-to-b")))),
            ("spec", map(
                ("endpointSelector", selector("pod-to-b-multi-node-nodeport")),
                ("egress", .seq([map(
                    ("toEndpoints", .seq([selector("echo-b")])),
                    ("toPorts", .seq([map(("ports", .seq([map(("port", .string("8080")), ("protocol", .string("TCP")))])))])))])))))
        let p = try Self.planned(try Variant.default.resources()
            + [Resource(kind: .ciliumNetworkPolicy, name: "nodeport-to-b", labels: nil, document: cnp)])
        let (spec, addresses, services, enforcement) = (p.spec, p.addresses, p.services, p.enforcement)

        let client = try XCTUnwrap(enforcement.endpoint("pod-to-b-multi-node-nodeport"))
        XCTAssertTrue(client.egressEnforced)
        let echoB = try XCTUnwrap(addresses.pods["echo-b"])
        let echoBNode = try XCTUnwrap(spec.node(named: echoB.node))
        func tcp(_ ip: String, _ port: UInt16) -> PolicyRuleSpec { PolicyRuleSpec(direction: .egress, cidr: "\(ip)/32", proto: .tcp, port: port) }
        var expected: Set<PolicyRuleSpec> = [tcp(echoB.ipv4, 8080), tcp(try XCTUnwrap(services.clusterIPs["echo-b"]), 8080),
                                             tcp(echoBNode.ipv4, 40000)]
        for node in spec.nodes { expected.insert(tcp(node.ipv4, 31414)) }
        XCTAssertEqual(Set(client.rules), expected, "no DNS rule: this CNP does not add one")
    }
}
