/// Every object of the legacy suite, declared in upstream (CUE file) order:
/// echo-servers, network, policy, proxy, services, tools. Order matters because
/// `cue dump` preserves it and the default output must match byte for byte.
public enum ConnectivitySuite {
    public static let echoServers: [EchoServerDeclaration] = [
        EchoServerDeclaration(name: "echo-a", component: .network, exposure: .pod(port: 8080, hostPort: nil),
                              clusterIPService: true),
        EchoServerDeclaration(name: "echo-b", component: .services, exposure: .pod(port: 8080, hostPort: .echoB),
                              nodePortService: true, headlessService: true),
        EchoServerDeclaration(name: "echo-b-host", component: .services, exposure: .hostNetwork(port: 31000),
                              colocateWith: "echo-b", headlessService: true),
        EchoServerDeclaration(name: "echo-c", component: .proxy, exposure: .pod(port: 8080, hostPort: .echoC),
                              clusterIPService: true, headlessService: true),
        EchoServerDeclaration(name: "echo-c-host", component: .proxy, exposure: .hostNetwork(port: 31002),
                              colocateWith: "echo-c", headlessService: true),
    ]

    public static let clientChecks: [ClientCheckDeclaration] = {
        var checks: [ClientCheckDeclaration] = [
            // network.cue
            ClientCheckDeclaration(name: "pod-to-a", component: .network),
            ClientCheckDeclaration(name: "pod-to-external-1111", component: .network, traffic: .external,
                                   target: .externalIP, path: ""),
            // policy.cue
            ClientCheckDeclaration(name: "pod-to-a-denied-cnp", component: .policy, expectation: .deny),
            ClientCheckDeclaration(name: "pod-to-a-allowed-cnp", component: .policy),
            ClientCheckDeclaration(name: "pod-to-external-fqdn-allow-google-cnp", component: .policy,
                                   traffic: .external, target: .externalFQDN, path: ""),
        ]
        // proxy.cue: L7 checks with an allow and a reject container.
        for name in ["pod-to-a-intra-node-proxy-egress-policy", "pod-to-a-multi-node-proxy-egress-policy",
                     "pod-to-c-intra-node-proxy-ingress-policy", "pod-to-c-multi-node-proxy-ingress-policy",
                     "pod-to-c-intra-node-proxy-to-proxy-policy", "pod-to-c-multi-node-proxy-to-proxy-policy"] {
            checks.append(ClientCheckDeclaration(name: name, component: .proxy, expectation: .allowAndDeny))
        }
        // proxy.cue: hostPort through the proxy, quarantined upstream (flaky).
        for name in ["pod-to-a-multi-node-hostport-proxy-egress", "pod-to-a-intra-node-hostport-proxy-egress",
                     "pod-to-c-multi-node-hostport-proxy-ingress", "pod-to-c-intra-node-hostport-proxy-ingress",
                     "pod-to-c-multi-node-hostport-proxy-to-proxy", "pod-to-c-intra-node-hostport-proxy-to-proxy"] {
            checks.append(ClientCheckDeclaration(name: name, component: .hostport, quarantine: true,
                                                 target: .echoCHostHeadlessHostPort, expectation: .allowAndDeny))
        }
        // services.cue
        checks += [
            ClientCheckDeclaration(name: "pod-to-b-multi-node-clusterip", component: .services),
            ClientCheckDeclaration(name: "pod-to-b-multi-node-headless", component: .services),
            ClientCheckDeclaration(name: "host-to-b-multi-node-clusterip", component: .services, hostNetwork: true),
            ClientCheckDeclaration(name: "host-to-b-multi-node-headless", component: .services, hostNetwork: true),
            ClientCheckDeclaration(name: "pod-to-b-multi-node-hostport", component: .hostport,
                                   target: .echoBHostHeadlessHostPort),
            ClientCheckDeclaration(name: "pod-to-b-intra-node-hostport", component: .hostport,
                                   target: .echoBHostHeadlessHostPort),
            ClientCheckDeclaration(name: "pod-to-b-multi-node-nodeport", component: .nodeport,
                                   target: .echoBHostHeadlessNodePort),
            ClientCheckDeclaration(name: "pod-to-b-intra-node-nodeport", component: .nodeport,
                                   target: .echoBHostHeadlessNodePort),
        ]
        // tools.cue: watch `kubectl logs -l name=query-dns-policy`; probes always pass.
        checks.append(ClientCheckDeclaration(
            name: "query-dns-policy", component: .proxy, type: .tool, expectation: .alwaysPass,
            tool: ToolContainer(image: Images.demoClient, command: [
                "/bin/sh", "-c",
                "while true; do dig +noall +question +answer +timeout=1 +tries=1 \(ToolContainer.fqdnPlaceholder) && sleep 1 ; done",
            ])))
        return checks
    }()

    /// Egress policies, in upstream order (policy.cue, proxy.cue, tools.cue).
    public static func egressPolicies(_ options: GeneratorOptions) -> [EgressPolicyDeclaration] {
        let l7Public = PortRule.L7.http(method: "GET", path: "/public$")
        func l7Egress(_ check: String, to server: String) -> EgressPolicyDeclaration {
            EgressPolicyDeclaration(check: check, rules: [
                EgressRule(toPorts: [PortRule(port: "8080", proto: "TCP", l7: l7Public)], toEndpoints: [[("name", server)]]),
            ])
        }
        // Target is a host-network pod, so no toEndpoints: the node IP is not an endpoint.
        func hostPortEgress(_ check: String) -> EgressPolicyDeclaration {
            EgressPolicyDeclaration(check: check, rules: [
                EgressRule(toPorts: [PortRule(port: String(options.echoCHostPort), proto: "TCP", l7: l7Public)]),
            ])
        }
        return [
            EgressPolicyDeclaration(check: "pod-to-a-denied-cnp", rules: []),
            EgressPolicyDeclaration(check: "pod-to-a-allowed-cnp", rules: [
                EgressRule(toPorts: [PortRule(port: "8080", proto: "TCP")], toEndpoints: [[("name", "echo-a")]]),
            ]),
            EgressPolicyDeclaration(check: "pod-to-external-fqdn-allow-google-cnp", rules: [
                EgressRule(toFQDNs: [options.fqdnMatchPattern]),
            ]),
            l7Egress("pod-to-a-intra-node-proxy-egress-policy", to: "echo-a"),
            l7Egress("pod-to-a-multi-node-proxy-egress-policy", to: "echo-a"),
            l7Egress("pod-to-c-intra-node-proxy-to-proxy-policy", to: "echo-c"),
            l7Egress("pod-to-c-multi-node-proxy-to-proxy-policy", to: "echo-c"),
            hostPortEgress("pod-to-a-multi-node-hostport-proxy-egress"),
            hostPortEgress("pod-to-a-intra-node-hostport-proxy-egress"),
            hostPortEgress("pod-to-c-multi-node-hostport-proxy-to-proxy"),
            hostPortEgress("pod-to-c-intra-node-hostport-proxy-to-proxy"),
            EgressPolicyDeclaration(check: "query-dns-policy", rules: [], dnsVisibility: true),
        ]
    }

    public static let ingressPolicies: [IngressPolicyDeclaration] = [
        IngressPolicyDeclaration(server: "echo-c", rules: [
            PortRule(port: "8080", proto: "TCP", l7: .http(method: "GET", path: "/public$")),
        ]),
    ]

    /// All objects, unfiltered: deployments, services, egress CNPs, ingress CNPs.
    public static func resources(_ options: GeneratorOptions = GeneratorOptions(),
                                 revision: SuiteRevision = .current) -> [Resource] {
        let builder = ManifestBuilder(options: options, revision: revision)
        var deployments = echoServers.map(builder.deployment(for:))
        deployments += clientChecks.map(builder.deployment(for:))
        // resources.cue's service comprehension has one clause per service kind, and cue 0.2.2
        // emits each clause's results for every deployment before the next clause's: all
        // ClusterIP/NodePort services first, then all headless ones (visible in -hostport).
        let services = echoServers.compactMap(builder.frontService(for:)) + echoServers.compactMap(builder.headlessService(for:))
        let egress = egressPolicies(options).compactMap(builder.policy(for:))
        let ingress = ingressPolicies.compactMap(builder.policy(for:))
        return deployments + services + egress + ingress
    }
}
