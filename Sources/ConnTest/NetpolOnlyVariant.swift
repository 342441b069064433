/// connectivity-check-netpol-only.yaml (cilium#21415): the suite for clusters
/// that only enforce Kubernetes NetworkPolicy. Upstream's generator never produced
/// this file: it was assembled by hand from dumps of the v1.3.0-image revision
/// (default deployments and services, a NetworkPolicy, then the hostport and nodeport
/// checks and every service of `-t component=all`), so it is reproduced as it is,
/// not cleaned up: the repeated nodeport checks and services, echo-c services without
/// echo-c, no generated-file header, and `---` after the last document.
public enum NetpolOnlyVariant {
    public static func render(_ options: GeneratorOptions) -> String {
        ManifestRenderer.concatenated(resources(options))
    }

    public static func resources(_ options: GeneratorOptions) -> [Resource] {
        let all = ConnectivitySuite.resources(options, revision: .v1_3_0)
        func select(_ component: TagSelection.ComponentTag, _ kind: ResourceKind) -> [Resource] {
            var tags = TagSelection()
            tags.component = component
            tags.kind = kind
            return tags.filter(all)
        }
        let nodePortChecks = all.filter { $0.kind == .deployment && $0.labels?.component == .nodeport }
        return select(.default, .deployment)
            + select(.default, .service)
            + [deniedNetworkPolicy(options)]
            + select(.hostport, .deployment).filter { $0.labels?.quarantine == false }
            + nodePortChecks
            + all.filter { $0.kind == .service }
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
