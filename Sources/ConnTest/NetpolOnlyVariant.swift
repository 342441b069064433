/// connectivity-check-netpol-only.yaml (cilium#21415): the suite for clusters
/// that only enforce Kubernetes NetworkPolicy. Upstream assembled it by hand from
/// the default and hostport dumps; the document order (including the repeated
/// nodeport checks and services, and echo-c services without echo-c) is kept.
public enum NetpolOnlyVariant {
    public static func resources(_ options: GeneratorOptions) -> [Resource] {
        let all = ConnectivitySuite.resources(options)
        func select(_ component: TagSelection.ComponentTag, _ kind: ResourceKind) -> [Resource] {
            var tags = TagSelection()
            tags.component = component
            tags.kind = kind
            return tags.filter(all)
        }
        let services = Dictionary(all.filter { $0.kind == .service }.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let trailingServices = ["echo-a", "echo-b", "echo-c", "echo-b-headless", "echo-b-host-headless",
                                "echo-c-headless", "echo-c-host-headless"].compactMap { services[$0] }
        let nodePortChecks = all.filter { $0.kind == .deployment && $0.labels?.component == .nodeport }
        return select(.default, .deployment)
            + select(.default, .service)
            + [deniedNetworkPolicy(options)]
            + select(.hostport, .deployment).filter { $0.labels?.quarantine == false }
            + nodePortChecks
            + trailingServices
    }

    /// The CNPs become one NetworkPolicy: the denied check may only reach DNS,
    /// so its /private probe fails. allowed-cnp and fqdn run unrestricted.
    static func deniedNetworkPolicy(_ options: GeneratorOptions) -> Resource {
        let name = "pod-to-a-denied-cnp"
        var metadata: [(String, YAMLNode)] = [("name", .string(name))]
        if let namespace = options.namespace { metadata.append(("namespace", .string(namespace))) }
        let doc: YAMLNode = .map([
            ("apiVersion", .string("networking.k8s.io/v1")),
            ("kind", .string("NetworkPolicy")),
            ("metadata", .map(metadata)),
            ("spec", .map([
                ("podSelector", .map([("matchLabels", .map([("name", .string(name))]))])),
                ("policyTypes", strings(["Egress"])),
                ("egress", .seq([.map([
                    ("to", .seq([.map([
                        ("namespaceSelector", .map([])),
                        ("podSelector", .map([("matchLabels", .map([("k8s-app", .string("kube-dns"))]))])),
                    ])])),
                    ("ports", .seq([.map([("port", .int(53)), ("protocol", .string("UDP"))])])),
                ])])),
            ])),
        ])
        return Resource(kind: .networkPolicy, name: name, labels: nil, document: doc, indentSequences: true)
    }
}
