/// `cilium.io/v2` CiliumNetworkPolicy -> PolicyDocument.
///
/// Cilium semantics kept here:
/// - a direction is enforced once its rule list is non-empty (`egress: [{}]` is default-deny);
/// - endpoint selectors without a namespace key are limited to the policy's namespace;
/// - a rule with `toPorts` and no L3 field allows those ports to/from anywhere;
/// - a rule with neither L3 fields nor ports (`{}`) allows nothing.
enum CiliumPolicyParser {
    static let namespaceKey = "io.kubernetes.pod.namespace"

    static func parse(_ doc: YAMLNode, policy: String) throws -> PolicyDocument {
        var r = PolicyFieldReader(policy: policy)
        let namespace = doc.value(at: "metadata", "namespace")?.stringValue
        guard let spec = doc["spec"] else {
            if doc["specs"] != nil { throw r.error("specs", "a list of rule specs is not supported; use spec") }
            throw r.error("spec", "missing")
        }
        var subject: LabelSelector?
        var sawSelector = false
        var egress: [PolicyDocument.Rule]?
        var ingress: [PolicyDocument.Rule]?
        for (key, value) in try r.map(spec, "spec") {
            let field = "spec.\(key)"
            switch key {
            case "endpointSelector":
                sawSelector = true
                subject = try endpointSelector(value, field, direction: nil, reader: &r)
            case "nodeSelector":
                // Host policies apply to the node, which the pod datapath does not see.
                sawSelector = true
                r.flag(.hostPolicy, nil, field)
            case "egress", "ingress":
                let direction: PolicyFacts.Direction = key == "egress" ? .egress : .ingress
                let items = try r.list(value, field)
                guard !items.isEmpty else { continue }
                var rules = direction == .egress ? (egress ?? []) : (ingress ?? [])
                for (i, item) in items.enumerated() {
                    if let rule = try parseRule(item, "\(field)[\(i)]", direction: direction, reader: &r) { rules.append(rule) }
                }
                if direction == .egress { egress = rules } else { ingress = rules }
            case "egressDeny", "ingressDeny":
                // Deny rules cannot be expressed as allows; enforce the direction with
                // no allows from them (fail closed).
                let direction: PolicyFacts.Direction = key == "egressDeny" ? .egress : .ingress
                guard !(try r.list(value, field)).isEmpty else { continue }
                r.flag(.denyRules, direction, field)
                if direction == .egress { egress = egress ?? [] } else { ingress = ingress ?? [] }
            case "description", "labels":
                continue // metadata only
            default:
                r.flag(.other, nil, field)
            }
        }
        guard sawSelector else { throw r.error("spec.endpointSelector", "missing (every CNP rule needs a selector)") }
        return PolicyDocument(kind: .ciliumNetworkPolicy, name: policy, namespace: namespace, subject: subject,
                              egress: egress, ingress: ingress, unsupported: r.unsupported)
    }

    /// Strips Cilium label sources: `k8s:` and `any:` match Kubernetes labels; other
    /// sources (`reserved:host`, …) name non-pod identities and never match a pod.
    static func endpointSelector(_ node: YAMLNode, _ field: String, direction: PolicyFacts.Direction?,
                                 reader r: inout PolicyFieldReader) throws -> LabelSelector {
        let raw = try r.selector(node, field)
        var foreign: [String] = []
        let selector = raw.mapKeys { key in
            guard let colon = key.firstIndex(of: ":") else { return key }
            let source = key[..<colon]
            if source == "k8s" || source == "any" { return String(key[key.index(after: colon)...]) }
            foreign.append(key)
            return key
        }
        for key in foreign.sorted() {
            r.flag(key.hasPrefix("reserved:") ? .entities : .other, direction, "\(field).\(key)")
        }
        return selector
    }

    static func parseRule(_ node: YAMLNode, _ field: String, direction: PolicyFacts.Direction,
                          reader r: inout PolicyFieldReader) throws -> PolicyDocument.Rule? {
        let endpointsKey = direction == .egress ? "toEndpoints" : "fromEndpoints"
        let unsupportedPeers: [String: UnsupportedPolicyFeature.Category] = direction == .egress
            ? ["toFQDNs": .fqdn, "toEntities": .entities, "toCIDR": .cidr, "toCIDRSet": .cidr, "toServices": .services,
               "toNodes": .nodes, "toGroups": .other, "toRequires": .other]
            : ["fromEntities": .entities, "fromCIDR": .cidr, "fromCIDRSet": .cidr, "fromNodes": .nodes,
               "fromGroups": .other, "fromRequires": .other]
        var endpoints: [PolicyDocument.Peer]?
        var sawUnsupportedL3 = false
        var ports: [PolicyDocument.Port]?
        var sawPorts = false
        var sawICMP = false
        for (key, value) in try r.map(node, field) {
            let f = "\(field).\(key)"
            if key == endpointsKey {
                let items = try r.list(value, f)
                guard !items.isEmpty else { continue }
                endpoints = try items.enumerated().map { i, item in
                    let selector = try endpointSelector(item, "\(f)[\(i)]", direction: direction, reader: &r)
                    // An explicit namespace key replaces Cilium's implicit policy-namespace match.
                    let scope: PolicyDocument.NamespaceScope = selector.keys.contains(namespaceKey) ? .any : .policyNamespace
                    return PolicyDocument.Peer(pods: selector, namespaces: scope)
                }
            } else if key == "toPorts" {
                let items = try r.list(value, f)
                guard !items.isEmpty else { continue }
                sawPorts = true
                var all: [PolicyDocument.Port] = []
                var anyPort = false
                for (i, item) in items.enumerated() {
                    if let entry = try parsePortRule(item, "\(f)[\(i)]", direction: direction, reader: &r) {
                        all += entry
                    } else {
                        anyPort = true
                    }
                }
                // Empty (not nil) when every entry was unsupported: allow nothing.
                ports = anyPort ? nil : all
            } else if let category = unsupportedPeers[key] {
                guard !(value.arrayValue?.isEmpty ?? false) else { continue }
                sawUnsupportedL3 = true
                r.flag(category, direction, f)
            } else if key == "icmps" {
                r.flag(.icmp, direction, f)
                sawICMP = true
            } else {
                r.flag(.other, direction, f)
            }
        }
        if sawICMP {
            // ICMP-only rule (Cilium forbids icmps with toPorts): no TCP/UDP allows (fail closed).
            sawPorts = true
            ports = []
        }
        if let endpoints { return PolicyDocument.Rule(peers: .only(endpoints), ports: ports) }
        if sawUnsupportedL3 { return nil }
        // Ports with no L3 constraint: anywhere. An empty rule selects nothing.
        return sawPorts ? PolicyDocument.Rule(peers: .anywhere, ports: ports) : nil
    }

    /// nil = any port and protocol (a `toPorts` entry without `ports`).
    static func parsePortRule(_ node: YAMLNode, _ field: String, direction: PolicyFacts.Direction,
                              reader r: inout PolicyFieldReader) throws -> [PolicyDocument.Port]? {
        var result: [PolicyDocument.Port]?
        for (key, value) in try r.map(node, field) {
            let f = "\(field).\(key)"
            switch key {
            case "ports":
                var ports: [PolicyDocument.Port] = []
                for (i, item) in try r.list(value, f).enumerated() {
                    if let port = try parsePort(item, "\(f)[\(i)]", direction: direction, reader: &r) { ports.append(port) }
                }
                result = ports
            case "rules":
                for (kind, rules) in try r.map(value, f) {
                    switch kind {
                    case "http": r.flag(.l7HTTP, direction, "\(f).http")
                    case "dns":
                        let matchAll = (rules.arrayValue ?? []).allSatisfy {
                            $0.mapPairs?.count == 1 && $0["matchPattern"]?.stringValue == "*"
                        }
                        r.flag(.l7DNS, direction, "\(f).dns", restrictsTraffic: !matchAll)
                    case "kafka", "l7proto", "l7": r.flag(.l7Other, direction, "\(f).\(kind)")
                    default: r.flag(.other, direction, "\(f).\(kind)")
                    }
                }
            case "terminatingTLS", "originatingTLS", "serverNames", "listener":
                r.flag(.l7Other, direction, f)
            default:
                r.flag(.other, direction, f)
            }
        }
        return result
    }

    /// `{port, protocol, endPort}`; nil when the entry cannot be enforced (flagged).
    static func parsePort(_ node: YAMLNode, _ field: String, direction: PolicyFacts.Direction,
                          reader r: inout PolicyFieldReader) throws -> PolicyDocument.Port? {
        let pairs = try r.map(node, field)
        var proto = PolicyL4Protocol.any
        if let p = node["protocol"] {
            let text = p.stringValue ?? ""
            switch text.uppercased() {
            case "TCP": proto = .tcp
            case "UDP": proto = .udp
            case "ANY", "": proto = .any
            case "SCTP":
                r.flag(.protocolNotSupported, direction, "\(field).protocol")
                return nil
            default:
                throw r.error("\(field).protocol", "\"\(text)\" is not a protocol (valid: TCP|UDP|SCTP|ANY)")
            }
        }
        var port: UInt16 = 0
        if let p = node["port"] {
            switch try r.port(p, "\(field).port", allowZero: true) {
            case .number(let n): port = n
            case .named:
                r.flag(.namedPort, direction, "\(field).port")
                return nil
            }
        }
        for (key, _) in pairs where !["port", "protocol"].contains(key) {
            // endPort: only the first port is allowed (fail closed for the rest).
            r.flag(key == "endPort" ? .portRange : .other, direction, "\(field).\(key)")
        }
        return PolicyDocument.Port(proto: proto, port: port)
    }
}
