/// Port plus optional L7 rules, rendered as one `toPorts` entry.
public struct PortRule: Sendable, Equatable {
    public enum L7: Sendable, Equatable {
        case none
        case http(method: String, path: String)
        case dnsAny
    }

    public var port: String
    public var proto: String
    public var l7: L7

    public init(port: String, proto: String, l7: L7 = .none) {
        self.port = port
        self.proto = proto
        self.l7 = l7
    }

    var node: YAMLNode {
        var pairs: [(String, YAMLNode)] = [
            ("ports", .seq([.map([("port", .string(port)), ("protocol", .string(proto))])])),
        ]
        switch l7 {
        case .none: break
        case let .http(method, path):
            pairs.append(("rules", .map([("http", .seq([.map([("path", .string(path)), ("method", .string(method))])]))])))
        case .dnsAny:
            pairs.append(("rules", .map([("dns", .seq([.map([("matchPattern", .string("*"))])]))])))
        }
        return .map(pairs)
    }
}

/// One egress rule; keys are emitted toFQDNs, toPorts, toEndpoints (upstream order).
public struct EgressRule: Sendable, Equatable {
    public var toFQDNs: [String] = []
    public var toPorts: [PortRule] = []
    /// Each entry is one `matchLabels` selector, in key order.
    public var toEndpoints: [[(String, String)]] = []

    public init(toFQDNs: [String] = [], toPorts: [PortRule] = [], toEndpoints: [[(String, String)]] = []) {
        self.toFQDNs = toFQDNs
        self.toPorts = toPorts
        self.toEndpoints = toEndpoints
    }

    public static func == (lhs: EgressRule, rhs: EgressRule) -> Bool {
        lhs.toFQDNs == rhs.toFQDNs && lhs.toPorts == rhs.toPorts
            && lhs.toEndpoints.map { $0.map { "\($0.0)=\($0.1)" } } == rhs.toEndpoints.map { $0.map { "\($0.0)=\($0.1)" } }
    }

    var node: YAMLNode {
        var pairs: [(String, YAMLNode)] = []
        if !toFQDNs.isEmpty {
            pairs.append(("toFQDNs", .seq(toFQDNs.map { .map([("matchPattern", .string($0))]) })))
        }
        if !toPorts.isEmpty { pairs.append(("toPorts", .seq(toPorts.map(\.node)))) }
        if !toEndpoints.isEmpty {
            pairs.append(("toEndpoints", .seq(toEndpoints.map { labels in
                .map([("matchLabels", .map(labels.map { ($0.0, YAMLNode.string($0.1)) }))])
            })))
        }
        return .map(pairs)
    }

    /// DNS rules appended to every egress policy so name resolution keeps working.
    static func dnsRules(visibility: Bool) -> [EgressRule] {
        let l7: PortRule.L7 = visibility ? .dnsAny : .none
        return [
            EgressRule(toPorts: [PortRule(port: "53", proto: "ANY", l7: l7)], toEndpoints: [
                [("k8s:io.kubernetes.pod.namespace", "kube-system"), ("k8s:k8s-app", "kube-dns")],
                [("k8s:io.kubernetes.pod.namespace", "kube-system"), ("k8s:k8s-app", "node-local-dns")],
            ]),
            EgressRule(toPorts: [PortRule(port: "5353", proto: "UDP", l7: l7)], toEndpoints: [
                [("k8s:io.kubernetes.pod.namespace", "openshift-dns"), ("k8s:dns.operator.openshift.io/daemonset-dns", "default")],
            ]),
        ]
    }
}
