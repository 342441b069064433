/// A CiliumNetworkPolicy or Kubernetes NetworkPolicy reduced to what an L3/L4
/// datapath can enforce, plus the list of what it cannot.
public struct PolicyDocument: Sendable, Equatable {
    public enum Kind: String, Sendable, Hashable {
        case ciliumNetworkPolicy = "CiliumNetworkPolicy"
        case networkPolicy = "NetworkPolicy"
    }

    /// Which namespaces a peer selector may match.
    public enum NamespaceScope: Sendable, Hashable {
        /// The policy's own namespace (selectors without a namespace constraint).
        case policyNamespace
        /// Any namespace; the pod selector itself constrains the namespace (CNP
        /// `k8s:io.kubernetes.pod.namespace`).
        case any
        /// NetworkPolicy `namespaceSelector`, matched against namespace labels.
        case matching(LabelSelector)
    }

    /// Pods selected by `pods` within `namespaces`. For CNPs the selector keys have
    /// their `k8s:`/`any:` source prefix removed.
    public struct Peer: Sendable, Hashable {
        public var pods: LabelSelector
        public var namespaces: NamespaceScope

        public init(pods: LabelSelector, namespaces: NamespaceScope) {
            self.pods = pods
            self.namespaces = namespaces
        }
    }

    public struct Port: Sendable, Hashable {
        public var proto: PolicyL4Protocol
        /// 0 = any port.
        public var port: UInt16

        public init(proto: PolicyL4Protocol, port: UInt16) {
            self.proto = proto
            self.port = port
        }
    }

    public enum Peers: Sendable, Hashable {
        /// No L3 constraint at all (rule with only ports): 0.0.0.0/0 and ::/0.
        case anywhere
        /// Only these; an empty list (every peer was unsupported) allows nothing.
        case only([Peer])
    }

    /// One egress/ingress rule: peers x ports.
    public struct Rule: Sendable, Hashable {
        public var peers: Peers
        /// nil = any protocol and port; empty = nothing (every port entry was unsupported).
        public var ports: [Port]?

        public init(peers: Peers, ports: [Port]?) {
            self.peers = peers
            self.ports = ports
        }
    }

    public var kind: Kind
    public var name: String
    /// nil when the manifest sets none (the compiler's default namespace applies).
    public var namespace: String?
    /// Pods the policy applies to (within its namespace); nil = none it can
    /// enforce (CNP `nodeSelector` host policies).
    public var subject: LabelSelector?
    /// nil = the policy does not restrict egress; [] = default-deny with no allows.
    public var egress: [Rule]?
    public var ingress: [Rule]?
    public var unsupported: [UnsupportedPolicyFeature]
    /// A CiliumClusterwideNetworkPolicy: its selectors (subject and peers without a namespace
    /// constraint) match pods of every namespace.
    public var clusterwide: Bool

    public init(kind: Kind, name: String, namespace: String?, subject: LabelSelector?,
                egress: [Rule]?, ingress: [Rule]?, unsupported: [UnsupportedPolicyFeature] = [], clusterwide: Bool = false) {
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.subject = subject
        self.egress = egress
        self.ingress = ingress
        self.unsupported = unsupported
        self.clusterwide = clusterwide
    }

    /// A CiliumClusterwideNetworkPolicy (same spec as a CNP, no namespace).
    public static func clusterwide(_ doc: YAMLNode, policy: String) throws -> PolicyDocument {
        var parsed = try CiliumPolicyParser.parse(doc, policy: policy)
        parsed.namespace = nil
        parsed.clusterwide = true
        return parsed
    }

    public func rules(_ direction: PolicyFacts.Direction) -> [Rule]? {
        direction == .egress ? egress : ingress
    }

    /// nil for objects that are not policies (Deployments, Services).
    public init?(resource: Resource) throws {
        let name = resource.name
        switch resource.kind {
        case .ciliumNetworkPolicy:
            self = try CiliumPolicyParser.parse(resource.document, policy: name)
        case .networkPolicy:
            self = try NetworkPolicyParser.parse(resource.document, policy: name)
        case .deployment, .service:
            return nil
        }
    }

    /// Every policy among `resources`, in document order.
    public static func parse(_ resources: [Resource]) throws -> [PolicyDocument] {
        try resources.compactMap { try PolicyDocument(resource: $0) }
    }
}
