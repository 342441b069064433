import XCTest
@testable import ConnTest

final class PolicyCompilerTests: XCTestCase {
    static let dnsV4 = "10.0.9.10"
    static let dnsV6 = "fd00::9:10"

    /// Every workload pod gets 10.0.0.N / fd00::N (hostNetwork pods the node's
    /// 192.168.0.1), plus a kube-dns pod in kube-system.
    func pods(_ workload: RunWorkload) -> [PolicyPod] {
        var out = workload.all.enumerated().map { i, d in
            d.hostNetwork
                ? PolicyPod(deployment: d, ipv4: "192.168.0.1")
                : PolicyPod(deployment: d, ipv4: "10.0.0.\(i + 1)", ipv6: "fd00::\(i + 1)")
        }
        out.append(PolicyPod(name: "coredns", namespace: "kube-system", labels: ["k8s-app": "kube-dns"],
                             ipv4: Self.dnsV4, ipv6: Self.dnsV6))
        return out
    }

    func compile(_ variant: Variant) throws -> (CompiledPolicy, RunWorkload, [PolicyPod]) {
        let resources = try variant.resources()
        let workload = try RunWorkload(resources: resources)
        let pods = pods(workload)
        return (try PolicyCompiler.compile(resources: resources, pods: pods), workload, pods)
    }

    func ip(_ name: String, _ pods: [PolicyPod]) throws -> (String, String) {
        let pod = try XCTUnwrap(pods.first { $0.name == name })
        return (try XCTUnwrap(pod.ipv4), try XCTUnwrap(pod.ipv6))
    }

    static let dnsRules = [
        PolicyRuleSpec(direction: .egress, cidr: "\(dnsV4)/32", proto: .any, port: 53),
        PolicyRuleSpec(direction: .egress, cidr: "\(dnsV6)/128", proto: .any, port: 53),
    ]

    // MARK: default workload

    func testDeniedCNPAllowsOnlyDNS() throws {
        let (compiled, _, pods) = try compile(.default)
        let denied = try XCTUnwrap(compiled.pod("pod-to-a-denied-cnp"))
        XCTAssertTrue(denied.egressEnforced)
        XCTAssertFalse(denied.ingressEnforced)
        XCTAssertEqual(denied.rules, Self.dnsRules)
        let (echoA4, _) = try ip("echo-a", pods)
        XCTAssertFalse(denied.rules.contains { $0.cidr.hasPrefix(echoA4 + "/") })
        XCTAssertEqual(denied.egressPolicies, ["pod-to-a-denied-cnp"])
        XCTAssertEqual(compiled.unsupportedFeatures(ofPolicy: "pod-to-a-denied-cnp"), [])
    }

    func testAllowedCNPAllowsEchoAOn8080TCPAndDNS() throws {
        let (compiled, workload, pods) = try compile(.default)
        let allowed = try XCTUnwrap(compiled.pod("pod-to-a-allowed-cnp"))
        let (a4, a6) = try ip("echo-a", pods)
        XCTAssertTrue(allowed.egressEnforced)
        XCTAssertEqual(allowed.rules, [
            PolicyRuleSpec(direction: .egress, cidr: "\(a4)/32", proto: .tcp, port: 8080),
            Self.dnsRules[0],
            PolicyRuleSpec(direction: .egress, cidr: "\(a6)/128", proto: .tcp, port: 8080),
            Self.dnsRules[1],
        ].sorted())
        let check = try XCTUnwrap(workload.checks.first { $0.name == "pod-to-a-allowed-cnp" })
        XCTAssertNil(compiled.skipReason(for: check, in: workload))
    }

    func testFQDNPolicyIsFlaggedAndSkipped() throws {
        let (compiled, workload, _) = try compile(.default)
        let name = "pod-to-external-fqdn-allow-google-cnp"
        let features = compiled.unsupportedFeatures(ofPolicy: name)
        XCTAssertEqual(features.map(\.field), [
            "spec.egress[0].toFQDNs",
            "spec.egress[1].toPorts[0].rules.dns",
            "spec.egress[2].toPorts[0].rules.dns",
        ])
        XCTAssertEqual(Set(features.map(\.category)), [.fqdn, .l7DNS])
        // The L3/L4 part still compiles: default-deny plus DNS.
        XCTAssertEqual(compiled.pod(name)?.rules, Self.dnsRules)
        let check = try XCTUnwrap(workload.checks.first { $0.name == name })
        XCTAssertEqual(compiled.skipReason(for: check, in: workload), "unsupported locally: FQDN rules")
        XCTAssertTrue(compiled.dependsOnUnsupportedFeatures(check: name, probeTargets: []))
        XCTAssertNil(compiled.skipReason(for: check, in: workload, capabilities: LocalCapabilities(fqdnPolicy: true)))
    }

    func testUnselectedPodsHaveNoEnforcement() throws {
        let (compiled, _, _) = try compile(.default)
        let enforced = compiled.pods.filter { $0.egressEnforced || $0.ingressEnforced }.map(\.name)
        XCTAssertEqual(Set(enforced), ["pod-to-a-denied-cnp", "pod-to-a-allowed-cnp", "pod-to-external-fqdn-allow-google-cnp"])
        for name in ["pod-to-a", "echo-a", "echo-b", "echo-b-host", "host-to-b-multi-node-clusterip", "coredns"] {
            let pod = try XCTUnwrap(compiled.pod(name), name)
            XCTAssertFalse(pod.egressEnforced || pod.ingressEnforced, name)
            XCTAssertEqual(pod.rules, [], name)
        }
        // Sorted by namespace, then name.
        XCTAssertEqual(compiled.pods.map { "\($0.namespace)/\($0.name)" },
                       compiled.pods.map { "\($0.namespace)/\($0.name)" }.sorted())
        XCTAssertEqual(compiled.pods.first?.namespace, "default")
    }

    func testCompilationIsDeterministic() throws {
        let resources = try Variant.hostport.resources()
        let pods = pods(try RunWorkload(resources: resources))
        let a = try PolicyCompiler.compile(resources: resources, pods: pods)
        let b = try PolicyCompiler.compile(resources: resources, pods: pods.reversed())
        XCTAssertEqual(a, b)
    }

    // MARK: hostport / proxy / quarantine

    func testProxyPoliciesFlagHTTPButCompileL3L4() throws {
        let (compiled, workload, pods) = try compile(.hostport)
        let name = "pod-to-a-intra-node-proxy-egress-policy"
        XCTAssertEqual(compiled.unsupportedFeatures(ofPolicy: name).map(\.category), [.l7HTTP])
        XCTAssertEqual(compiled.unsupportedFeatures(ofPolicy: name).first?.field, "spec.egress[0].toPorts[0].rules.http")
        let (a4, a6) = try ip("echo-a", pods)
        XCTAssertEqual(compiled.pod(name)?.rules, (Self.dnsRules + [
            PolicyRuleSpec(direction: .egress, cidr: "\(a4)/32", proto: .tcp, port: 8080),
            PolicyRuleSpec(direction: .egress, cidr: "\(a6)/128", proto: .tcp, port: 8080),
        ]).sorted())
        let check = try XCTUnwrap(workload.checks.first { $0.name == name })
        XCTAssertEqual(compiled.skipReason(for: check, in: workload), "unsupported locally: L7 rules")
        XCTAssertNil(compiled.skipReason(for: check, in: workload, capabilities: LocalCapabilities(l7Policy: true)))
    }

    func testIngressCNPEnforcesEchoCFromAnywhereOn8080() throws {
        let (compiled, workload, _) = try compile(.hostport)
        let echoC = try XCTUnwrap(compiled.pod("echo-c"))
        XCTAssertTrue(echoC.ingressEnforced)
        XCTAssertFalse(echoC.egressEnforced)
        XCTAssertEqual(echoC.rules, [
            PolicyRuleSpec(direction: .ingress, cidr: "0.0.0.0/0", proto: .tcp, port: 8080),
            PolicyRuleSpec(direction: .ingress, cidr: "::/0", proto: .tcp, port: 8080),
        ])
        XCTAssertEqual(compiled.unsupportedFeatures(ofPolicy: "echo-c").map(\.direction), [.ingress])
        // The ingress-policy check is unselected itself but probes echo-c.
        let check = try XCTUnwrap(workload.checks.first { $0.name == "pod-to-c-intra-node-proxy-ingress-policy" })
        XCTAssertFalse(try XCTUnwrap(compiled.pod(check.name)).egressEnforced)
        XCTAssertEqual(compiled.skipReason(for: check, in: workload), "unsupported locally: L7 rules")
        XCTAssertFalse(try XCTUnwrap(compiled.pod("echo-c-host")).ingressEnforced, "hostNetwork pods are never selected")
    }

    func testHostportProxyPolicyAllowsPortToAnyDestination() throws {
        let (compiled, workload, _) = try compile(.quarantine)
        let name = "pod-to-a-intra-node-hostport-proxy-egress"
        XCTAssertEqual(compiled.pod(name)?.rules, (Self.dnsRules + [
            PolicyRuleSpec(direction: .egress, cidr: "0.0.0.0/0", proto: .tcp, port: 40001),
            PolicyRuleSpec(direction: .egress, cidr: "::/0", proto: .tcp, port: 40001),
        ]).sorted())
        XCTAssertEqual(compiled.unsupportedFeatures(ofPolicy: name).map(\.category), [.l7HTTP])
        // hostNetwork target and no egress policy: nothing unsupported applies.
        let ingress = try XCTUnwrap(workload.checks.first { $0.name == "pod-to-c-multi-node-hostport-proxy-ingress" })
        XCTAssertNil(compiled.skipReason(for: ingress, in: workload))
    }

    func testEveryVariantCompilesWithOnlyKnownFields() throws {
        for variant in Variant.allCases {
            let (compiled, workload, _) = try compile(variant)
            let other = compiled.policies.flatMap(\.unsupported).filter { $0.category == .other }
            XCTAssertEqual(other, [], variant.rawValue)
            // Every policy of the suite selects its pod (the legacy ipv6 file included).
            for policy in compiled.policies {
                XCTAssertFalse(policy.egressPods.isEmpty && policy.ingressPods.isEmpty, "\(variant.rawValue): \(policy.name)")
            }
            for check in workload.checks {
                // The CLI summary line relies on these two wordings.
                if let reason = compiled.skipReason(for: check, in: workload) {
                    XCTAssertTrue(["unsupported locally: L7 rules", "unsupported locally: FQDN rules"].contains(reason),
                                  "\(variant.rawValue)/\(check.name): \(reason)")
                }
            }
        }
    }

    /// Agrees with the name-based LocalCapabilities decision on every internal
    /// check (external ones are skipped earlier for "no external host"), once L3/L4
    /// enforcement exists: the compiler is what the runner uses then.
    func testSkipReasonsAgreeWithLocalCapabilities() throws {
        for variant in Variant.allCases {
            let (compiled, workload, _) = try compile(variant)
            for check in workload.checks where check.traffic != .external {
                XCTAssertEqual(compiled.skipReason(for: check, in: workload),
                               LocalCapabilities(policyEnforcement: true).skipReason(for: check, in: workload),
                               "\(variant.rawValue)/\(check.name)")
            }
        }
    }

    func testDNSVisibilityAloneDoesNotSkip() throws {
        let (compiled, workload, _) = try compile(.debugTools)
        let name = "query-dns-policy"
        XCTAssertEqual(Set(compiled.unsupportedFeatures(ofPolicy: name).map(\.category)), [.l7DNS], "still listed")
        XCTAssertTrue(compiled.unsupportedFeatures(ofPolicy: name).allSatisfy { !$0.restrictsTraffic })
        let check = try XCTUnwrap(workload.checks.first { $0.name == name })
        XCTAssertNil(compiled.skipReason(for: check, in: workload), "matchPattern * allows every query")
    }

    // MARK: netpol-only

    func testNetpolOnlyCompilesToEgressDNSOverUDP() throws {
        let (compiled, _, _) = try compile(.netpolOnly)
        XCTAssertEqual(compiled.policies.map(\.kind), [.networkPolicy])
        let denied = try XCTUnwrap(compiled.pod("pod-to-a-denied-cnp"))
        XCTAssertTrue(denied.egressEnforced)
        XCTAssertFalse(denied.ingressEnforced, "policyTypes [Egress] only")
        XCTAssertEqual(denied.rules, [
            PolicyRuleSpec(direction: .egress, cidr: "\(Self.dnsV4)/32", proto: .udp, port: 53),
            PolicyRuleSpec(direction: .egress, cidr: "\(Self.dnsV6)/128", proto: .udp, port: 53),
        ])
        XCTAssertEqual(compiled.policies.first?.unsupported, [])
        XCTAssertFalse(try XCTUnwrap(compiled.pod("pod-to-a-allowed-cnp")).egressEnforced)
    }

    // MARK: semantics beyond the suite

    func testNamespaceScopingAndExpressions() throws {
        let cnp = Resource(kind: .ciliumNetworkPolicy, name: "p", labels: nil, document: .map([
            ("metadata", .map([("name", .string("p")), ("namespace", .string("team"))])),
            ("spec", .map([
                ("endpointSelector", .map([("matchExpressions", .seq([.map([
                    ("key", .string("name")), ("operator", .string("In")), ("values", .seq([.string("client")])),
                ])]))])),
                ("ingress", .seq([.map([("fromEndpoints", .seq([.map([("matchLabels", .map([("role", .string("peer"))]))])]))])])),
            ])),
        ]))
        let pods = [
            PolicyPod(name: "client", namespace: "team", labels: ["name": "client"], ipv4: "10.1.0.1"),
            PolicyPod(name: "client", namespace: "other", labels: ["name": "client"], ipv4: "10.1.0.2"),
            PolicyPod(name: "peer", namespace: "team", labels: ["role": "peer"], ipv4: "10.1.0.3", ipv6: "fd00::3"),
            PolicyPod(name: "peer", namespace: "other", labels: ["role": "peer"], ipv4: "10.1.0.4"),
            PolicyPod(name: "hostpeer", namespace: "team", labels: ["role": "peer"], ipv4: "192.168.0.1", hostNetwork: true),
        ]
        let compiled = try PolicyCompiler.compile(resources: [cnp], pods: pods)
        XCTAssertEqual(compiled.pod("client", namespace: "team")?.rules, [
            PolicyRuleSpec(direction: .ingress, cidr: "10.1.0.3/32"),
            PolicyRuleSpec(direction: .ingress, cidr: "fd00::3/128"),
        ], "peer without namespace key = policy namespace; no ports = any")
        XCTAssertEqual(compiled.pod("client", namespace: "other")?.ingressEnforced, false)
    }

    func testNetworkPolicyNamespaceSelectorAndDefaults() throws {
        let np = Resource(kind: .networkPolicy, name: "np", labels: nil, document: .map([
            ("metadata", .map([("name", .string("np"))])),
            ("spec", .map([
                ("podSelector", .map([])),
                ("egress", .seq([.map([("to", .seq([.map([
                    ("namespaceSelector", .map([("matchLabels", .map([("kubernetes.io/metadata.name", .string("kube-system"))]))])),
                ])]))])])),
            ])),
        ]))
        let pods = [
            PolicyPod(name: "a", labels: [:], ipv4: "10.1.0.1"),
            PolicyPod(name: "dns", namespace: "kube-system", labels: [:], ipv4: "10.1.0.9"),
        ]
        let compiled = try PolicyCompiler.compile(resources: [np], pods: pods)
        let a = try XCTUnwrap(compiled.pod("a"))
        // No policyTypes: Ingress always, Egress because a section exists.
        XCTAssertTrue(a.egressEnforced && a.ingressEnforced)
        XCTAssertEqual(a.rules, [PolicyRuleSpec(direction: .egress, cidr: "10.1.0.9/32")])
        XCTAssertEqual(compiled.pod("dns")?.egressEnforced, false)
    }

    func testUnsupportedPeersFailClosed() throws {
        let cnp = Resource(kind: .ciliumNetworkPolicy, name: "p", labels: nil, document: .map([
            ("spec", .map([
                ("endpointSelector", .map([])),
                ("egress", .seq([
                    .map([("toCIDR", .seq([.string("1.1.1.1/32")])), ("toPorts", .seq([.map([("ports", .seq([.map([("port", .string("443"))])]))])]))]),
                    .map([("toEntities", .seq([.string("world")]))]),
                ])),
                ("ingress", .seq([.map([("fromEndpoints", .seq([.map([("matchLabels", .map([("reserved:host", .string(""))]))])]))])])),
            ])),
        ]))
        let compiled = try PolicyCompiler.compile(resources: [cnp], pods: [PolicyPod(name: "a", labels: [:], ipv4: "10.1.0.1")])
        let a = try XCTUnwrap(compiled.pod("a"))
        XCTAssertTrue(a.egressEnforced && a.ingressEnforced)
        XCTAssertEqual(a.rules, [], "toCIDR+toPorts must not widen to 0.0.0.0/0")
        XCTAssertEqual(compiled.unsupportedFeatures(ofPolicy: "p").map(\.category), [.cidr, .entities, .entities])
        XCTAssertEqual(compiled.skipReason(forCheck: "a", probeTargets: []), "unsupported locally: entity rules / CIDR rules")
    }

    // MARK: malformed input

    func assertPolicyError(_ resource: Resource, field: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try PolicyDocument(resource: resource), file: file, line: line) { error in
            guard let error = error as? PolicyError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.policy, resource.name, file: file, line: line)
            XCTAssertEqual(error.field, field, "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix("policy \(resource.name): \(field): "), error.description, file: file, line: line)
        }
    }

    func cnp(_ spec: [(String, YAMLNode)]) -> Resource {
        Resource(kind: .ciliumNetworkPolicy, name: "bad", labels: nil, document: .map([("spec", .map(spec))]))
    }

    func testMalformedPoliciesNameThePolicyAndField() {
        let selector: (String, YAMLNode) = ("endpointSelector", .map([("matchLabels", .map([("name", .string("x"))]))]))
        func egressPort(_ port: [(String, YAMLNode)]) -> (String, YAMLNode) {
            ("egress", .seq([.map([("toPorts", .seq([.map([("ports", .seq([.map(port)]))])]))])]))
        }
        assertPolicyError(cnp([selector, egressPort([("port", .string("80/tcp"))])]), field: "spec.egress[0].toPorts[0].ports[0].port")
        assertPolicyError(cnp([selector, egressPort([("port", .int(70000))])]), field: "spec.egress[0].toPorts[0].ports[0].port")
        assertPolicyError(cnp([selector, egressPort([("port", .string("53")), ("protocol", .string("ICMP"))])]),
                          field: "spec.egress[0].toPorts[0].ports[0].protocol")
        assertPolicyError(cnp([selector, ("egress", .map([]))]), field: "spec.egress")
        assertPolicyError(cnp([("egress", .seq([.map([])]))]), field: "spec.endpointSelector")
        assertPolicyError(cnp([("endpointSelector", .map([("matchLabels", .map([("name", .int(1))]))]))]),
                          field: "spec.endpointSelector.matchLabels.name")
        assertPolicyError(cnp([("endpointSelector", .map([("matchExpressions", .seq([.map([
            ("key", .string("name")), ("operator", .string("Like")), ("values", .seq([.string("x")])),
        ])]))]))]), field: "spec.endpointSelector.matchExpressions[0].operator")
        assertPolicyError(Resource(kind: .ciliumNetworkPolicy, name: "bad", labels: nil, document: .map([])), field: "spec")

        func np(_ spec: [(String, YAMLNode)]) -> Resource {
            Resource(kind: .networkPolicy, name: "badnp", labels: nil, document: .map([("spec", .map(spec))]))
        }
        assertPolicyError(np([("policyTypes", .seq([.string("Egress")]))]), field: "spec.podSelector")
        assertPolicyError(np([("podSelector", .map([])), ("policyTypes", .seq([.string("Both")]))]), field: "spec.policyTypes[0]")
        assertPolicyError(np([("podSelector", .map([])), ("egress", .seq([.map([("to", .seq([.map([])]))])]))]),
                          field: "spec.egress[0].to[0]")
        assertPolicyError(np([("podSelector", .map([])), ("egress", .seq([.map([("ports", .seq([.map([("port", .int(0))])]))])]))]),
                          field: "spec.egress[0].ports[0].port")
    }

    func testNamedPortsAndUnknownFieldsAreFlaggedNotDropped() throws {
        let doc = try XCTUnwrap(try PolicyDocument(resource: cnp([
            ("endpointSelector", .map([])),
            ("egress", .seq([.map([
                ("toEndpoints", .seq([.map([])])),
                ("toPorts", .seq([.map([("ports", .seq([.map([("port", .string("http"))])]))])])),
                ("toMagic", .bool(true)),
            ])])),
        ])))
        XCTAssertEqual(doc.unsupported.map(\.category), [.namedPort, .other])
        XCTAssertEqual(doc.egress, [PolicyDocument.Rule(peers: .only([PolicyDocument.Peer(pods: LabelSelector(), namespaces: .policyNamespace)]),
                                                        ports: [])], "the only port was unsupported: allow nothing")
    }

    func testBadPodAddressIsAnError() {
        XCTAssertThrowsError(try PolicyCompiler.compile(policies: [], pods: [PolicyPod(name: "a", labels: [:], ipv4: "10.0.0.300")])) {
            XCTAssertTrue("\($0)".contains("pod default/a"), "\($0)")
        }
    }
}
