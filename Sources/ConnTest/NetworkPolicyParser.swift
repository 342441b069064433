/// `networking.k8s.io/v1` NetworkPolicy -> PolicyDocument.
///
/// Kubernetes semantics kept here:
/// - enforced directions come from `policyTypes`; without it, Ingress always and
///   Egress when an `egress` section exists;
/// - a peer without `namespaceSelector` means the policy's namespace, and
///   `namespaceSelector: {}` means every namespace;
/// - an empty or missing `to`/`from` means any peer, empty or missing `ports` any port;
/// - protocol defaults to TCP.
enum NetworkPolicyParser {
    static func parse(_ doc: YAMLNode, policy: String) throws -> PolicyDocument {
        var r = PolicyFieldReader(policy: policy)
        let namespace = doc.value(at: "metadata", "namespace")?.stringValue
        guard let spec = doc["spec"] else { throw r.error("spec", "missing") }
        var subject: LabelSelector?
        var policyTypes: Set<PolicyFacts.Direction>?
        var sections: [PolicyFacts.Direction: [PolicyDocument.Rule]] = [:]
        for (key, value) in try r.map(spec, "spec") {
            let field = "spec.\(key)"
            switch key {
            case "podSelector":
                subject = try r.selector(value, field)
            case "policyTypes":
                var types: Set<PolicyFacts.Direction> = []
                for (i, item) in try r.list(value, field).enumerated() {
                    switch item.stringValue {
                    case "Ingress": types.insert(.ingress)
                    case "Egress": types.insert(.egress)
                    default:
                        throw r.error("\(field)[\(i)]", "\(item.stringValue.map { "\"\($0)\"" } ?? "value") is not a policy type (valid: Ingress|Egress)")
                    }
                }
                policyTypes = types
            case "egress", "ingress":
                let direction: PolicyFacts.Direction = key == "egress" ? .egress : .ingress
                sections[direction] = try r.list(value, field).enumerated().map { i, item in
                    try parseRule(item, "\(field)[\(i)]", direction: direction, reader: &r)
                }
            default:
                r.flag(.other, nil, field)
            }
        }
        guard let subject else { throw r.error("spec.podSelector", "missing (use {} to select every pod)") }
        let types = policyTypes ?? (sections[.egress] != nil ? [.ingress, .egress] : [.ingress])
        // A listed type without rules is default-deny for that direction.
        return PolicyDocument(kind: .networkPolicy, name: policy, namespace: namespace, subject: subject,
                              egress: types.contains(.egress) ? sections[.egress] ?? [] : nil,
                              ingress: types.contains(.ingress) ? sections[.ingress] ?? [] : nil,
                              unsupported: r.unsupported)
    }

    static func parseRule(_ node: YAMLNode, _ field: String, direction: PolicyFacts.Direction,
                          reader r: inout PolicyFieldReader) throws -> PolicyDocument.Rule {
        let peersKey = direction == .egress ? "to" : "from"
        var peers = PolicyDocument.Peers.anywhere
        var ports: [PolicyDocument.Port]?
        for (key, value) in try r.map(node, field) {
            let f = "\(field).\(key)"
            if key == peersKey {
                let items = try r.list(value, f)
                guard !items.isEmpty else { continue }
                var list: [PolicyDocument.Peer] = []
                for (i, item) in items.enumerated() {
                    if let peer = try parsePeer(item, "\(f)[\(i)]", direction: direction, reader: &r) { list.append(peer) }
                }
                peers = .only(list)
            } else if key == "ports" {
                let items = try r.list(value, f)
                guard !items.isEmpty else { continue }
                var list: [PolicyDocument.Port] = []
                for (i, item) in items.enumerated() {
                    if let port = try parsePort(item, "\(f)[\(i)]", direction: direction, reader: &r) { list.append(port) }
                }
                ports = list
            } else {
                r.flag(.other, direction, f)
            }
        }
        return PolicyDocument.Rule(peers: peers, ports: ports)
    }

    /// nil for an ipBlock peer (flagged: CIDR peers are not enforced locally).
    static func parsePeer(_ node: YAMLNode, _ field: String, direction: PolicyFacts.Direction,
                          reader r: inout PolicyFieldReader) throws -> PolicyDocument.Peer? {
        var pods: LabelSelector?
        var namespaces: LabelSelector?
        var sawIPBlock = false
        for (key, value) in try r.map(node, field) {
            let f = "\(field).\(key)"
            switch key {
            case "podSelector": pods = try r.selector(value, f)
            case "namespaceSelector": namespaces = try r.selector(value, f)
            case "ipBlock":
                sawIPBlock = true
                r.flag(.cidr, direction, f)
            default: r.flag(.other, direction, f)
            }
        }
        if sawIPBlock { return nil }
        guard pods != nil || namespaces != nil else {
            throw r.error(field, "a peer needs podSelector, namespaceSelector or ipBlock")
        }
        return PolicyDocument.Peer(pods: pods ?? LabelSelector(),
                                   namespaces: namespaces.map { .matching($0) } ?? .policyNamespace)
    }

    /// nil when the entry cannot be enforced (flagged).
    static func parsePort(_ node: YAMLNode, _ field: String, direction: PolicyFacts.Direction,
                          reader r: inout PolicyFieldReader) throws -> PolicyDocument.Port? {
        var proto = PolicyL4Protocol.tcp
        var port: UInt16 = 0
        var supported = true
        for (key, value) in try r.map(node, field) {
            let f = "\(field).\(key)"
            switch key {
            case "protocol":
                switch value.stringValue {
                case "TCP": proto = .tcp
                case "UDP": proto = .udp
                case "SCTP":
                    r.flag(.protocolNotSupported, direction, f)
                    supported = false
                default:
                    throw r.error(f, "\(value.stringValue.map { "\"\($0)\"" } ?? "value") is not a protocol (valid: TCP|UDP|SCTP)")
                }
            case "port":
                switch try r.port(value, f, allowZero: false) {
                case .number(let n): port = n
                case .named:
                    r.flag(.namedPort, direction, f)
                    supported = false
                }
            case "endPort":
                // Only the first port of the range is allowed (fail closed for the rest).
                r.flag(.portRange, direction, f)
            default:
                r.flag(.other, direction, f)
            }
        }
        return supported ? PolicyDocument.Port(proto: proto, port: port) : nil
    }
}
