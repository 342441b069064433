/// connectivity-check-ipv6.yaml: the pre-CUE suite kept for IPv6 clusters. Upstream's
/// generator never produced it: the old Makefile concatenated hand-written files, each in
/// its author's style. It is reproduced as it is, not cleaned up: no suite labels,
/// kubectl-style indented lists, port 80, separate -allow/-reject deployments,
/// liveness-mostly probes, JSON-style `command: [...]` lists, quoting where the author
/// quoted, two nodeport checks in `kubectl get -o yaml` key order (one with a container
/// named `…-hostport`), and the external checks commented out (they need IPv6 internet).
public enum LegacyIPv6Variant {
    static let legacyNodePort = 31313
    static let legacyHostNetworkPort = 41000
    static let echoPort = 80

    public static func render(_ options: GeneratorOptions) -> String {
        let builder = Builder(options: options)
        return ManifestRenderer.generatedHeader
            + ManifestRenderer.handWritten(builder.all(), commentedOut: builder.externalChecks())
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
        static let sleep = ["/bin/ash", "-c", "sleep 1000000000"]

        func metadata(_ name: String, quoted: Bool = false) -> YAMLNode {
            var pairs: [(String, YAMLNode)] = [("name", quoted ? YAMLNode.string(name).styled(.doubleQuoted) : .string(name))]
            if let namespace = options.namespace { pairs.append(("namespace", .string(namespace))) }
            return .map(pairs)
        }

        func service(_ name: String, type: String, port: Int?, nodePort: Int? = nil, headless: Bool = false,
                     selector: String, comment: String? = nil) -> Resource {
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
            return Resource(kind: .service, name: name, labels: nil, document: doc, indentSequences: true, comment: comment)
        }

        /// `quotedTopologyKey`: most files quote "kubernetes.io/hostname"; the nodeport ones do not.
        static func affinity(_ placement: NameDrivenDefaults.Placement, quotedTopologyKey: Bool = true) -> YAMLNode? {
            let key: String, server: String
            switch placement {
            case .anywhere: return nil
            case .sameNode(let s): (key, server) = ("podAffinity", s)
            case .otherNode(let s): (key, server) = ("podAntiAffinity", s)
            }
            let topologyKey = YAMLNode.string("kubernetes.io/hostname")
            return .map([(key, .map([("requiredDuringSchedulingIgnoredDuringExecution", .seq([.map([
                ("labelSelector", .map([("matchExpressions", .seq([.map([
                    ("key", .string("name")), ("operator", .string("In")), ("values", strings([server])),
                ])]))])),
                ("topologyKey", quotedTopologyKey ? topologyKey.styled(.doubleQuoted) : topologyKey),
            ])]))]))])
        }

        func deployment(_ name: String, container: [(String, YAMLNode)], podSpecHead: [(String, YAMLNode)] = [],
                        placement: NameDrivenDefaults.Placement = .anywhere, comment: String? = nil) -> Resource {
            var podSpec = podSpecHead
            podSpec.append(("containers", .seq([.map(container)])))
            if let affinity = Self.affinity(placement) { podSpec.append(("affinity", affinity)) }
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
            return Resource(kind: .deployment, name: name, labels: nil, document: doc, indentSequences: true, comment: comment)
        }

        static func exec(_ command: [String], padded: Bool = false, timeout: Bool = false) -> YAMLNode {
            var probe: [(String, YAMLNode)] = timeout ? [("timeoutSeconds", .int(ManifestBuilder.probeFailureTimeout + 2))] : []
            probe.append(("exec", .map([("command", strings(command).styled(.flow(padded: padded)))])))
            return .map(probe)
        }

        static func allow(_ target: String, padded: Bool = false) -> YAMLNode {
            exec(["curl", "-sS", "--fail", "-o", "/dev/null", target], padded: padded)
        }

        static func deny(_ target: String, timeout: Bool = false) -> YAMLNode {
            exec(["ash", "-c", "! curl -sS --fail --connect-timeout \(ManifestBuilder.probeFailureTimeout) -o /dev/null \(target)"],
                 timeout: timeout)
        }

        /// The external checks probe with a connect timeout, unlike the rest of this file.
        static func allowExternal(_ target: String) -> YAMLNode {
            exec(["curl", "-sS", "--fail", "--connect-timeout", String(ManifestBuilder.probeFailureTimeout), "-o", "/dev/null", target])
        }

        func echoServer(_ name: String, hostPort: Int? = nil, hostNetwork: Bool = false,
                        placement: NameDrivenDefaults.Placement = .anywhere, comment: String? = nil) -> Resource {
            var container: [(String, YAMLNode)] = [("name", .string("echo-container")), ("image", .string(echo)),
                                                   ("imagePullPolicy", .string("IfNotPresent"))]
            if hostNetwork {
                container.append(("env", .seq([.map([("name", .string("PORT")), ("value", .string(String(hostNetworkPort)))])])))
            } else if let hostPort {
                container.append(("ports", .seq([.map([("containerPort", .int(LegacyIPv6Variant.echoPort)), ("hostPort", .int(hostPort))])])))
            }
            container.append(("readinessProbe", Self.allow(hostNetwork ? "localhost:\(hostNetworkPort)" : "localhost")))
            return deployment(name, container: container, podSpecHead: hostNetwork ? [("hostNetwork", .bool(true))] : [],
                              placement: placement, comment: comment)
        }

        /// A client; `probes` are (key, probe) pairs in the order upstream listed them.
        func client(_ name: String, container: String? = nil, probes: [(String, YAMLNode)]) -> Resource {
            let fields: [(String, YAMLNode)] = [
                ("name", .string(container ?? "\(name)-container")), ("image", .string(curl)),
                ("command", strings(Self.sleep).styled(.flow(padded: false))),
                ("imagePullPolicy", .string("IfNotPresent")),
            ] + probes
            return deployment(name, container: fields, placement: NameDrivenDefaults.placement(for: name + "-"))
        }

        /// host-to-b-*: host network, and the image after its pull policy.
        func hostClient(_ name: String, target: String) -> Resource {
            let fields: [(String, YAMLNode)] = [
                ("name", .string("host-to-b-multi-node-container")), ("imagePullPolicy", .string("IfNotPresent")),
                ("image", .string(curl)), ("command", strings(Self.sleep).styled(.flow(padded: false))),
                ("livenessProbe", Self.allow(target)),
            ]
            return deployment(name, container: fields,
                              podSpecHead: [("hostNetwork", .bool(true)), ("dnsPolicy", .string("ClusterFirstWithHostNet"))],
                              placement: NameDrivenDefaults.placement(for: name + "-"))
        }

        /// The nodeport checks were written later in `kubectl get -o yaml` order (keys sorted).
        func nodePortClient(_ name: String, container: String) -> Resource {
            let target = "echo-b-host-headless:\(nodePort)"
            var podSpec: [(String, YAMLNode)] = []
            if let affinity = Self.affinity(NameDrivenDefaults.placement(for: name), quotedTopologyKey: false) {
                podSpec.append(("affinity", affinity))
            }
            podSpec.append(("containers", .seq([.map([
                ("command", strings(Self.sleep)), ("image", .string(curl)), ("imagePullPolicy", .string("IfNotPresent")),
                ("livenessProbe", Self.allow(target, padded: true)), ("readinessProbe", Self.allow(target, padded: true)),
                ("name", .string(container)),
            ])])))
            let doc: YAMLNode = .map([
                ("apiVersion", .string("apps/v1")), ("kind", .string("Deployment")), ("metadata", metadata(name)),
                ("spec", .map([
                    ("replicas", .int(1)),
                    ("selector", .map([("matchLabels", .map([("name", .string(name))]))])),
                    ("template", .map([
                        ("metadata", .map([("labels", .map([("name", .string(name))]))])),
                        ("spec", .map(podSpec)),
                    ])),
                ])),
            ])
            return Resource(kind: .deployment, name: name, labels: nil, document: doc, indentSequences: true)
        }

        func policy(_ name: String, selects: String? = nil, direction: String = "egress", rules: [YAMLNode]) -> Resource {
            let doc: YAMLNode = .map([
                ("apiVersion", YAMLNode.string("cilium.io/v2").styled(.doubleQuoted)), ("kind", .string("CiliumNetworkPolicy")),
                ("metadata", metadata(name, quoted: true)),
                ("spec", .map([
                    ("endpointSelector", .map([("matchLabels", .map([("name", .string(selects ?? name))]))])),
                    (direction, .seq(rules)),
                ])),
            ])
            return Resource(kind: .ciliumNetworkPolicy, name: name, labels: nil, document: doc, indentSequences: true)
        }

        static func rule(to labels: YAMLNode?, port: String, proto: String, rules: (String, [YAMLNode])? = nil) -> YAMLNode {
            var portRule: [(String, YAMLNode)] = [("ports", .seq([.map([("port", .string(port)), ("protocol", .string(proto))])]))]
            if let (kind, items) = rules { portRule.append(("rules", .map([(kind, .seq(items))]))) }
            var pairs: [(String, YAMLNode)] = []
            if let labels { pairs.append(("toEndpoints", .seq([.map([("matchLabels", labels)])]))) }
            pairs.append(("toPorts", .seq([.map(portRule)])))
            return .map(pairs)
        }

        static func labels(_ pairs: [(String, String)]) -> YAMLNode { .map(pairs.map { ($0.0, .string($0.1)) }) }

        static let kubeDNS = labels([("k8s:io.kubernetes.pod.namespace", "kube-system"), ("k8s:k8s-app", "kube-dns")])
        static let openshiftDNS = labels([("k8s:io.kubernetes.pod.namespace", "openshift-dns"),
                                          ("k8s:dns.operator.openshift.io/daemonset-dns", "default")])
        static let dnsRules: [YAMLNode] = [
            rule(to: kubeDNS, port: "53", proto: "UDP"), rule(to: openshiftDNS, port: "5353", proto: "UDP"),
        ]

        static func quoted(_ s: String) -> YAMLNode { YAMLNode.string(s).styled(.doubleQuoted) }

        func l7(_ name: String, selects: String? = nil, to server: String, http: YAMLNode) -> Resource {
            policy(name, selects: selects, rules: [Self.rule(to: Self.labels([("name", server)]), port: String(LegacyIPv6Variant.echoPort),
                                                             proto: "TCP", rules: ("http", [http]))] + Self.dnsRules)
        }

        func all() -> [Resource] {
            let getRoot: YAMLNode = .map([("method", Self.quoted("GET")), ("path", Self.quoted("/"))])
            let noSuchMethod: YAMLNode = .map([("method", Self.quoted("no-such-method"))])
            let visibility: YAMLNode = .map([])
            var out: [Resource] = [
                service("echo-a", type: "ClusterIP", port: LegacyIPv6Variant.echoPort, selector: "echo-a"),
                echoServer("echo-a"),
                service("echo-b", type: "NodePort", port: LegacyIPv6Variant.echoPort, nodePort: nodePort, selector: "echo-b"),
                service("echo-b-headless", type: "ClusterIP", port: LegacyIPv6Variant.echoPort, headless: true, selector: "echo-b"),
                echoServer("echo-b", hostPort: options.echoBHostPort),
                echoServer("echo-b-host", hostNetwork: true, placement: .sameNode(as: "echo-b"),
                           comment: "The echo-b-host pod runs in host networking on the same node as echo-b."),
                service("echo-b-host-headless", type: "ClusterIP", port: nil, headless: true, selector: "echo-b-host",
                        comment: "Connecting to \"echo-b-host-headless\" will provide service discovery to the\n"
                            + "node IP on which echo-b* is running"),
                service("echo-c", type: "ClusterIP", port: LegacyIPv6Variant.echoPort, selector: "echo-c"),
                echoServer("echo-c"),
                policy("echo-c-allow-l7-ingress", selects: "echo-c", direction: "ingress", rules: [
                    .map([("toPorts", .seq([.map([
                        ("ports", .seq([.map([("port", YAMLNode.string(String(LegacyIPv6Variant.echoPort)).styled(.singleQuoted)),
                                              ("protocol", .string("TCP"))])])),
                        ("rules", .map([("http", .seq([.map([("method", .string("GET")), ("path", Self.quoted("/$"))])]))])),
                    ])]))]),
                ]),
                hostClient("host-to-b-multi-node-clusterip", target: "echo-b"),
                hostClient("host-to-b-multi-node-headless", target: "echo-b-headless"),
                client("pod-to-a-allowed-cnp", probes: [("livenessProbe", Self.allow("echo-a")), ("readinessProbe", Self.allow("echo-a"))]),
                policy("pod-to-a-allowed-cnp", rules: [Self.rule(to: Self.labels([("name", "echo-a")]),
                                                                 port: String(LegacyIPv6Variant.echoPort), proto: "TCP")] + Self.dnsRules),
                client("pod-to-a-l3-denied-cnp", probes: [("livenessProbe", Self.deny("echo-a", timeout: true)),
                                                          ("readinessProbe", Self.deny("echo-a", timeout: true))]),
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
                // Upstream's copy-paste: this nodeport check's container is named after the hostport one.
                nodePortClient("pod-to-b-intra-node-nodeport", container: "pod-to-b-intra-node-hostport"),
                client("pod-to-b-intra-node", probes: [("livenessProbe", Self.allow("echo-b"))]),
                client("pod-to-b-multi-node-clusterip", container: "pod-to-b-multi-node-container", probes: [("livenessProbe", Self.allow("echo-b"))]),
                client("pod-to-b-multi-node-headless", container: "pod-to-b-multi-node-container", probes: [("livenessProbe", Self.allow("echo-b-headless"))]),
                nodePortClient("pod-to-b-multi-node-nodeport", container: "pod-to-b-multi-node-nodeport"),
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

        /// Commented out upstream: they need IPv6 internet access.
        func externalChecks() -> [Resource] {
            let ip = options.externalIPValue, fqdn = options.externalFQDNValue
            let dns = ("dns", [YAMLNode.map([("matchPattern", Self.quoted("*"))])])
            return [
                client("pod-to-a-external-1111", probes: [("livenessProbe", Self.allowExternal(ip)),
                                                          ("readinessProbe", Self.allowExternal(ip))]),
                client("pod-to-external-fqdn-allow-google-cnp", probes: [("livenessProbe", Self.allowExternal(fqdn)),
                                                                         ("readinessProbe", Self.allowExternal(fqdn))]),
                policy("pod-to-external-fqdn-allow-google-cnp", rules: [
                    Self.rule(to: Self.kubeDNS.styled(.quotedKeys), port: "53", proto: "ANY", rules: dns),
                    Self.rule(to: Self.openshiftDNS, port: "5353", proto: "UDP", rules: dns),
                    .map([("toFQDNs", .seq([.map([("matchPattern", Self.quoted(options.fqdnMatchPattern))])]))]),
                ]),
            ]
        }
    }
}
