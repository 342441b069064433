/// connectivity-check-ipv6.yaml: the hand-written pre-CUE suite kept for IPv6
/// clusters. Different layout (no suite labels, kubectl-style lists, port 80,
/// separate -allow/-reject deployments, liveness-mostly probes) and the external
/// checks left out, as upstream had them commented out.
public enum LegacyIPv6Variant {
    static let legacyNodePort = 31313
    static let legacyHostNetworkPort = 41000
    static let echoPort = 80

    public static func render(_ options: GeneratorOptions) -> String {
        ManifestRenderer.generatedHeader + ManifestRenderer.dump(resources(options))
            + "# External checks (pod-to-a-external-1111, pod-to-external-fqdn-allow-google-cnp) are\n"
            + "# left out: they need IPv6 internet access.\n"
    }

    public static func resources(_ options: GeneratorOptions) -> [Resource] {
        Builder(options: options).all()
    }

    private struct Builder {
        let options: GeneratorOptions
        var curl: String { options.clientImage(default: Images.legacyAlpineCurl) }
        var echo: String { options.echoImage(default: Images.legacyJSONMock) }
        var nodePort: Int { options.nodePort ?? LegacyIPv6Variant.legacyNodePort }
        var hostNetworkPort: Int { LegacyIPv6Variant.legacyHostNetworkPort + options.hostPortShift }

        func metadata(_ name: String) -> YAMLNode {
            var pairs: [(String, YAMLNode)] = [("name", .string(name))]
            if let namespace = options.namespace { pairs.append(("namespace", .string(namespace))) }
            return .map(pairs)
        }

        func service(_ name: String, type: String, port: Int?, nodePort: Int? = nil, headless: Bool = false,
                     selector: String) -> Resource {
            var spec: [(String, YAMLNode)] = [("type", .string(type))]
            if headless { spec.append(("clusterIP", .string("None"))) }
            if let port {
                var entry: [(String, YAMLNode)] = [("port", .int(port))]
                if let nodePort { entry.append(("nodePort", .int(nodePort))) }
                spec.append(("ports", .seq([.map(entry)])))
            }
            spec.append(("selector", .map([("name", .string(selector))])))
            let doc: YAMLNode = .map([("apiVersion", .string("v1")), ("kind", .string("Service")),
                                      ("metadata", metadata(name)), ("spec", .map(spec))])
            return Resource(kind: .service, name: name, labels: nil, document: doc, indentSequences: true)
        }

        func affinity(_ placement: NameDrivenDefaults.Placement) -> YAMLNode? {
            let key: String, server: String
            switch placement {
            case .anywhere: return nil
            case .sameNode(let s): (key, server) = ("podAffinity", s)
            case .otherNode(let s): (key, server) = ("podAntiAffinity", s)
            }
            return .map([(key, .map([("requiredDuringSchedulingIgnoredDuringExecution", .seq([.map([
                ("labelSelector", .map([("matchExpressions", .seq([.map([
                    ("key", .string("name")), ("operator", .string("In")), ("values", strings([server])),
                ])]))])),
                ("topologyKey", .string("kubernetes.io/hostname")),
            ])]))]))])
        }

        func deployment(_ name: String, container: [(String, YAMLNode)], hostNetwork: Bool = false,
                        placement: NameDrivenDefaults.Placement = .anywhere) -> Resource {
            var podSpec: [(String, YAMLNode)] = []
            if hostNetwork { podSpec += [("hostNetwork", .bool(true))] }
            podSpec.append(("containers", .seq([.map(container)])))
            if let affinity = affinity(placement) { podSpec.append(("affinity", affinity)) }
            let doc: YAMLNode = .map([
                ("apiVersion", .string("apps/v1")), ("kind", .string("Deployment")), ("metadata", metadata(name)),
                ("spec", .map([
                    ("selector", .map([("matchLabels", .map([("name", .string(name))]))])),
                    ("replicas", .int(1)),
                    ("template", .map([
                        ("metadata", .map([("labels", .map([("name", .string(name))]))])),
                        ("spec", .map(podSpec)),
                    ])),
                ])),
            ])
            return Resource(kind: .deployment, name: name, labels: nil, document: doc, indentSequences: true)
        }

        static func allow(_ target: String) -> YAMLNode {
            .map([("exec", .map([("command", strings(["curl", "-sS", "--fail", "-o", "/dev/null", target]))]))])
        }

        static func deny(_ target: String) -> YAMLNode {
            .map([("timeoutSeconds", .int(ManifestBuilder.probeFailureTimeout + 2)), ("exec", .map([("command", strings([
                "ash", "-c", "! curl -sS --fail --connect-timeout \(ManifestBuilder.probeFailureTimeout) -o /dev/null \(target)",
            ]))]))])
        }

        func echoServer(_ name: String, hostPort: Int? = nil, hostNetwork: Bool = false,
                        placement: NameDrivenDefaults.Placement = .anywhere) -> Resource {
            var container: [(String, YAMLNode)] = [("name", .string("echo-container")), ("image", .string(echo)),
                                                   ("imagePullPolicy", .string("IfNotPresent"))]
            if hostNetwork {
                container.append(("env", .seq([.map([("name", .string("PORT")), ("value", .string(String(hostNetworkPort)))])])))
            } else if let hostPort {
                container.append(("ports", .seq([.map([("containerPort", .int(LegacyIPv6Variant.echoPort)), ("hostPort", .int(hostPort))])])))
            }
            container.append(("readinessProbe", Self.allow(hostNetwork ? "localhost:\(hostNetworkPort)" : "localhost")))
            return deployment(name, container: container, hostNetwork: hostNetwork, placement: placement)
        }

        /// A client; `probes` are (key, probe) pairs in the order upstream listed them.
        func client(_ name: String, container: String? = nil, probes: [(String, YAMLNode)], hostNetwork: Bool = false) -> Resource {
            let fields: [(String, YAMLNode)] = [
                ("name", .string(container ?? "\(name)-container")), ("image", .string(curl)),
                ("command", strings(["/bin/ash", "-c", "sleep 1000000000"])),
                ("imagePullPolicy", .string("IfNotPresent")),
            ] + probes
            var resource = deployment(name, container: fields, hostNetwork: hostNetwork,
                                      placement: NameDrivenDefaults.placement(for: name + "-"))
            if hostNetwork, case var .map(pairs) = resource.document,
               let specIndex = pairs.firstIndex(where: { $0.0 == "spec" }) {
                // Host-network pods need the cluster DNS explicitly.
                pairs[specIndex].1 = Self.inserting(("dnsPolicy", .string("ClusterFirstWithHostNet")), into: pairs[specIndex].1)
                resource.document = .map(pairs)
            }
            return resource
        }

        static func inserting(_ field: (String, YAMLNode), into spec: YAMLNode) -> YAMLNode {
            guard case var .map(specPairs) = spec, let t = specPairs.firstIndex(where: { $0.0 == "template" }),
                  case var .map(templatePairs) = specPairs[t].1, let s = templatePairs.firstIndex(where: { $0.0 == "spec" }),
                  case var .map(podPairs) = templatePairs[s].1 else { return spec }
            podPairs.insert(field, at: min(1, podPairs.count))
            templatePairs[s].1 = .map(podPairs)
            specPairs[t].1 = .map(templatePairs)
            return .map(specPairs)
        }

        func policy(_ name: String, selects: String? = nil, direction: String = "egress", rules: [YAMLNode]) -> Resource {
            let doc: YAMLNode = .map([
                ("apiVersion", .string("cilium.io/v2")), ("kind", .string("CiliumNetworkPolicy")), ("metadata", metadata(name)),
                ("spec", .map([
                    ("endpointSelector", .map([("matchLabels", .map([("name", .string(selects ?? name))]))])),
                    (direction, .seq(rules)),
                ])),
            ])
            return Resource(kind: .ciliumNetworkPolicy, name: name, labels: nil, document: doc, indentSequences: true)
        }

        static func rule(to labels: [(String, String)]?, port: String, proto: String, http: [YAMLNode]? = nil) -> YAMLNode {
            var portRule: [(String, YAMLNode)] = [("ports", .seq([.map([("port", .string(port)), ("protocol", .string(proto))])]))]
            if let http { portRule.append(("rules", .map([("http", .seq(http))]))) }
            var pairs: [(String, YAMLNode)] = []
            if let labels {
                pairs.append(("toEndpoints", .seq([.map([("matchLabels", .map(labels.map { ($0.0, .string($0.1)) }))])])))
            }
            pairs.append(("toPorts", .seq([.map(portRule)])))
            return .map(pairs)
        }

        static let dnsRules: [YAMLNode] = [
            rule(to: [("k8s:io.kubernetes.pod.namespace", "kube-system"), ("k8s:k8s-app", "kube-dns")], port: "53", proto: "UDP"),
            rule(to: [("k8s:io.kubernetes.pod.namespace", "openshift-dns"), ("k8s:dns.operator.openshift.io/daemonset-dns", "default")],
                 port: "5353", proto: "UDP"),
        ]

        func l7(_ name: String, selects: String? = nil, to server: String, http: YAMLNode) -> Resource {
            policy(name, selects: selects, rules: [Self.rule(to: [("name", server)], port: String(LegacyIPv6Variant.echoPort),
                                                             proto: "TCP", http: [http])] + Self.dnsRules)
        }

        func all() -> [Resource] {
            let getRoot: YAMLNode = .map([("method", .string("GET")), ("path", .string("/"))])
            let noSuchMethod: YAMLNode = .map([("method", .string("no-such-method"))])
            let visibility: YAMLNode = .map([])
            let nodePortTarget = "echo-b-host-headless:\(nodePort)"
            var out: [Resource] = [
                service("echo-a", type: "ClusterIP", port: LegacyIPv6Variant.echoPort, selector: "echo-a"),
                echoServer("echo-a"),
                service("echo-b", type: "NodePort", port: LegacyIPv6Variant.echoPort, nodePort: nodePort, selector: "echo-b"),
                service("echo-b-headless", type: "ClusterIP", port: LegacyIPv6Variant.echoPort, headless: true, selector: "echo-b"),
                echoServer("echo-b", hostPort: options.echoBHostPort),
                echoServer("echo-b-host", hostNetwork: true, placement: .sameNode(as: "echo-b")),
                // Resolves to the node IP of echo-b's node (host-network backend).
                service("echo-b-host-headless", type: "ClusterIP", port: nil, headless: true, selector: "echo-b-host"),
                service("echo-c", type: "ClusterIP", port: LegacyIPv6Variant.echoPort, selector: "echo-c"),
                echoServer("echo-c"),
                policy("echo-c-allow-l7-ingress", selects: "echo-c", direction: "ingress", rules: [
                    .map([("toPorts", .seq([.map([
                        ("ports", .seq([.map([("port", .string(String(LegacyIPv6Variant.echoPort))), ("protocol", .string("TCP"))])])),
                        ("rules", .map([("http", .seq([.map([("method", .string("GET")), ("path", .string("/$"))])]))])),
                    ])]))]),
                ]),
                client("host-to-b-multi-node-clusterip", container: "host-to-b-multi-node-container",
                       probes: [("livenessProbe", Self.allow("echo-b"))], hostNetwork: true),
                client("host-to-b-multi-node-headless", container: "host-to-b-multi-node-container",
                       probes: [("livenessProbe", Self.allow("echo-b-headless"))], hostNetwork: true),
                client("pod-to-a-allowed-cnp", probes: [("livenessProbe", Self.allow("echo-a")), ("readinessProbe", Self.allow("echo-a"))]),
                policy("pod-to-a-allowed-cnp", rules: [Self.rule(to: [("name", "echo-a")], port: String(LegacyIPv6Variant.echoPort), proto: "TCP")] + Self.dnsRules),
                client("pod-to-a-l3-denied-cnp", probes: [("livenessProbe", Self.deny("echo-a")), ("readinessProbe", Self.deny("echo-a"))]),
                policy("pod-to-a-l3-denied-cnp", rules: Self.dnsRules),
            ]
            for topology in ["intra-node", "multi-node"] {
                let base = "pod-to-a-\(topology)-proxy-egress"
                out += [
                    client("\(base)-allow", probes: [("livenessProbe", Self.allow("echo-a"))]),
                    l7("\(base)-allow", to: "echo-a", http: getRoot),
                    client("\(base)-reject", probes: [("livenessProbe", Self.deny("echo-a"))]),
                    // An HTTP rule no request can match: the proxy answers 403.
                    l7("\(base)-reject", to: "echo-a", http: noSuchMethod),
                ]
            }
            out += [
                client("pod-to-a", probes: [("livenessProbe", Self.allow("echo-a"))]),
                client("pod-to-b-intra-node-nodeport", probes: [("livenessProbe", Self.allow(nodePortTarget)), ("readinessProbe", Self.allow(nodePortTarget))]),
                client("pod-to-b-intra-node", probes: [("livenessProbe", Self.allow("echo-b"))]),
                client("pod-to-b-multi-node-clusterip", container: "pod-to-b-multi-node-container", probes: [("livenessProbe", Self.allow("echo-b"))]),
                client("pod-to-b-multi-node-headless", container: "pod-to-b-multi-node-container", probes: [("livenessProbe", Self.allow("echo-b-headless"))]),
                client("pod-to-b-multi-node-nodeport", probes: [("livenessProbe", Self.allow(nodePortTarget)), ("readinessProbe", Self.allow(nodePortTarget))]),
            ]
            for topology in ["intra-node", "multi-node"] {
                out += [
                    client("pod-to-c-\(topology)-proxy-ingress-allow", probes: [("livenessProbe", Self.allow("echo-c"))]),
                    // echo-c only allows `GET /$`, so any other path is rejected by its ingress proxy.
                    client("pod-to-c-\(topology)-proxy-ingress-reject", probes: [("livenessProbe", Self.deny("echo-c/invalid-path"))]),
                    client("pod-to-c-\(topology)-proxy-to-proxy-allow", probes: [("livenessProbe", Self.allow("echo-c"))]),
                    // Empty HTTP rule: visibility only, every request goes through the egress proxy.
                    l7("pod-to-c-\(topology)-proxy-to-proxy-allow", to: "echo-c", http: visibility),
                    client("pod-to-c-\(topology)-proxy-to-proxy-reject", probes: [("livenessProbe", Self.deny("echo-c/invalid-path"))]),
                    l7("pod-to-c-\(topology)-proxy-to-proxy-visibility", selects: "pod-to-c-\(topology)-proxy-to-proxy-reject",
                       to: "echo-c", http: visibility),
                ]
            }
            return out
        }
    }
}
