import Agent
import ConnTest
import ConnTestLocal
import HealthAPI
import XCTest

/// The pure parts of `conntest run` (no namespaces): addressing, service rules, DNS, argv, flags.
final class LocalRunPlanTests: XCTestCase {
    private func plans(nodes: Int) throws -> (RunPlan, ClusterSpec, PodAddressPlan, ServicePlan) {
        let plan = try RunPlan(workload: try RunWorkload(resources: try Variant.hostport.resources()), nodeCount: nodes)
        let spec = ClusterSpec.plan(name: "x", nodeCount: nodes, ipv6: false, probeRatio: 0)
        let addresses = try PodAddressPlan(plan: plan, cluster: spec)
        return (plan, spec, addresses, ServicePlan(workload: plan.workload, addresses: addresses, cluster: spec))
    }

    func testAddressesAndServiceRules() throws {
        let (plan, spec, addresses, services) = try plans(nodes: 3)
        XCTAssertEqual(addresses.dnsPods.map(\.ipv4), ["198.19.1.3", "198.19.2.3", "198.19.3.3"], "a DNS replica per node")
        XCTAssertEqual(addresses.dnsPods.map(\.node), ["node-1", "node-2", "node-3"])
        let echoB = try XCTUnwrap(addresses.pods["echo-b"])
        XCTAssertTrue(echoB.ipv4.hasPrefix("198.19."))
        XCTAssertGreaterThanOrEqual(Int(echoB.ipv4.split(separator: ".").last ?? "") ?? 0, 10)
        let host = try XCTUnwrap(addresses.pods["echo-b-host"])
        XCTAssertTrue(host.hostNetwork)
        XCTAssertEqual(host.node, echoB.node, "podAffinity to echo-b")
        XCTAssertEqual(host.ipv4, spec.node(named: host.node)?.ipv4)
        XCTAssertEqual(Set(addresses.pods.values.filter { !$0.hostNetwork }.map(\.ipv4)).count,
                       addresses.pods.values.filter { !$0.hostNetwork }.count, "unique pod IPs")

        XCTAssertEqual(services.clusterIPs["echo-a"], "198.18.128.10")
        XCTAssertNil(services.clusterIPs["echo-b-headless"])
        for node in spec.nodes {
            let rules = services.rules[node.name] ?? []
            let nodePort = try XCTUnwrap(rules.first { $0.daddr == node.ipv4 && $0.port == 31414 }, node.name)
            XCTAssertEqual(nodePort.backend, echoB.ipv4)
            XCTAssertEqual(nodePort.backendPort, 8080)
            XCTAssertEqual(nodePort.masquerade, node.name != echoB.node, "masquerade only to a remote endpoint")
            XCTAssertEqual(rules.contains { $0.port == 40000 }, node.name == echoB.node, "hostPort on the pod's node only")
        }
        let records = Dictionary(services.dnsRecords.map { ($0.name, $0.addresses) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(records["echo-b-host-headless.default.svc.cluster.local"], [host.ipv4])
        XCTAssertEqual(records["echo-b-headless"], [echoB.ipv4])
        XCTAssertEqual(records["echo-a.default"], ["198.18.128.10"])
        XCTAssertFalse(plan.workload.services.isEmpty)
    }

    /// `--ip-family ipv6`: pods are dual-stack, but every Service, endpoint, NodePort, hostPort and DNS
    /// record is IPv6, so nothing a probe resolves can be reached over IPv4.
    func testIPv6FamilyPlansOnlyIPv6Services() throws {
        let plan = try RunPlan(workload: try RunWorkload(resources: try Variant.hostport.resources()), nodeCount: 3)
        let spec = ClusterSpec.plan(name: "x", nodeCount: 3, ipv6: true, probeRatio: 0)
        let addresses = try PodAddressPlan(plan: plan, cluster: spec)
        let services = ServicePlan(workload: plan.workload, addresses: addresses, cluster: spec, family: .ipv6)
        let echoB = try XCTUnwrap(addresses.pods["echo-b"])
        let echoBNode = try XCTUnwrap(spec.node(named: echoB.node))
        XCTAssertEqual(echoB.ipv6?.hasPrefix("fd00:199:0:\(echoBNode.name.dropFirst(5))::"), true, echoB.ipv6 ?? "nil")
        XCTAssertEqual(addresses.dnsPods.map { $0.ipv6 }, ["fd00:199:0:1::3", "fd00:199:0:2::3", "fd00:199:0:3::3"])
        XCTAssertEqual(services.clusterIPs["echo-a"], "fd00:198:128::10")

        let allRecords = services.dnsRecords.flatMap(\.addresses)
        XCTAssertFalse(allRecords.isEmpty)
        XCTAssertTrue(allRecords.allSatisfy { $0.contains(":") }, "no A records: \(allRecords)")
        let records = Dictionary(services.dnsRecords.map { ($0.name, $0.addresses) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(records["echo-b-host-headless"], [echoBNode.ipv6 ?? ""], "hostNetwork backend: the node's IPv6")

        for node in spec.nodes {
            let rules = services.rules[node.name] ?? []
            XCTAssertTrue(rules.allSatisfy(\.isIPv6), node.name)
            let nodePort = try XCTUnwrap(rules.first { $0.port == 31414 }, node.name)
            XCTAssertEqual(nodePort.daddr, node.ipv6)
            XCTAssertEqual(nodePort.backend, echoB.ipv6)
        }
        let text = ServiceProxy.ruleset(services.rules[echoB.node] ?? [])
        XCTAssertTrue(text.contains("table ip6 nethealth_svc {"), text)
        XCTAssertTrue(text.contains("ip6 daddr fd00:198:128::10 tcp dport 8080 dnat to [\(addresses.pods["echo-a"]?.ipv6 ?? "")]:8080"), text)
        XCTAssertTrue(text.contains("ip6 daddr \(echoBNode.ipv6 ?? "") tcp dport 40000 dnat to [\(echoB.ipv6 ?? "")]:8080"), text)

        // The policy plan carries the IPv6 addresses, and a backend rule opens the IPv6 ClusterIP.
        let policy = try EnforcementPlanTests.planned(try Variant.default.resources(), ipv6: true)
        let allowed = try XCTUnwrap(policy.enforcement.endpoint("pod-to-a-allowed-cnp"))
        XCTAssertEqual(allowed.ipv6, policy.addresses.pods["pod-to-a-allowed-cnp"]?.ipv6)
        XCTAssertTrue(allowed.rules.contains(PolicyRuleSpec(direction: .egress, cidr: "fd00:198:128::10/128", proto: .tcp, port: 8080)),
                      "\(allowed.rules)")
    }

    func testIPv6RunNeedsADualStackCluster() throws {
        let (plan, spec, _, _) = try plans(nodes: 2)
        XCTAssertThrowsError(try LocalDeployment(layout: StateLayout(cluster: "x", root: "/nonexistent"), cluster: spec,
                                                 plan: plan, family: .ipv6)) { error in
            XCTAssertTrue("\(error)".contains("has no IPv6"), "\(error)")
        }
    }

    func testRulesetText() {
        let text = ServiceProxy.ruleset([.init(daddr: "198.18.0.11", port: 31414, backend: "198.19.2.10", backendPort: 8080, masquerade: true)])
        XCTAssertTrue(text.hasPrefix("table ip nethealth_svc {"))
        XCTAssertTrue(text.contains("ip daddr 198.18.0.11 tcp dport 31414 meta mark set 0x4e480001 dnat to 198.19.2.10:8080"))
        XCTAssertTrue(text.contains("type nat hook output priority -100"))
        XCTAssertTrue(text.contains("meta mark 0x4e480001 masquerade"))
    }

    func testProbeArgvAndNames() {
        XCTAssertEqual(LocalProbeCommand.adapt(["ash", "-c", "! curl x"]), ["/bin/sh", "-c", "! curl x"])
        XCTAssertEqual(LocalProbeCommand.adapt(["/bin/ash", "-c", "true"]), ["/bin/sh", "-c", "true"])
        XCTAssertEqual(LocalProbeCommand.adapt(["curl", "-sS"]), ["curl", "-sS"])
        let lxc = PodNetwork.hostInterface(pod: "pod-to-c-multi-node-hostport-proxy-to-proxy")
        XCTAssertLessThanOrEqual(lxc.utf8.count, 15)
        XCTAssertEqual(lxc, PodNetwork.hostInterface(pod: "pod-to-c-multi-node-hostport-proxy-to-proxy"), "stable")
        XCTAssertTrue(ResolvConf.clusterFirst(nameserver: "198.19.1.3").contains("search default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5"))
    }

    func testTimeoutParsing() {
        XCTAssertEqual(GoDuration.parse("60s"), .seconds(60))
        XCTAssertEqual(GoDuration.parse("2m"), .seconds(120))
        XCTAssertEqual(GoDuration.parse("1m30s"), .seconds(90))
        XCTAssertEqual(GoDuration.parse("90"), .seconds(90))
        XCTAssertEqual(GoDuration.parse("500ms"), .milliseconds(500))
        for bad in ["", "abc", "0s", "5x", "1m30", "-1"] { XCTAssertNil(GoDuration.parse(bad), bad) }
        // Found by bench/fuzz.sh: a value past Go's ~292-year limit trapped converting to Int64.
        for huge in ["1m15s" + String(repeating: "1", count: 40) + "s", "1e300", "9999999999999h"] {
            XCTAssertNil(GoDuration.parse(huge), huge)
        }
    }

    /// Only 198.18.0.0/15 minus nodes (/24), ClusterIPs (/20) and pods (198.19/16) may be simulated.
    func testExternalHostAddressRange() {
        for ok in ["198.18.1.1", "198.18.127.255", "198.18.144.0", "198.18.200.1", "198.18.255.254"] {
            XCTAssertNoThrow(try ExternalHostAddress.validate(ok), ok)
        }
        for bad in ["1.1.1.1", "198.17.255.255", "198.18.0.1", "198.18.0.250", "198.18.128.0", "198.18.143.255",
                    "198.19.0.1", "198.20.0.1", "fd00::1", "::ffff:198.18.200.1"] {
            XCTAssertThrowsError(try ExternalHostAddress.validate(bad), bad)
        }
        let layout = StateLayout(cluster: "c1", root: "/tmp/x")
        XCTAssertEqual(layout.externalNamespace, "nh-c1-ext")
        XCTAssertTrue(layout.ownsNamespace("nh-c1-ext"))
        XCTAssertFalse(layout.ownsNamespace("nh-c2-ext"))
        XCTAssertFalse(layout.ownsNamespace("nh-c1-ext2"))
    }
}
