/// Kinds of object the suite emits.
public enum ResourceKind: String, CaseIterable, Sendable {
    case deployment = "Deployment"
    case service = "Service"
    case ciliumNetworkPolicy = "CiliumNetworkPolicy"
    /// Only in the hand-written netpol-only variant.
    case networkPolicy = "NetworkPolicy"
}

/// One rendered Kubernetes object plus the facts the filters and checks need.
public struct Resource: Sendable {
    public var kind: ResourceKind
    public var name: String
    /// nil for hand-written legacy documents, which carry no suite labels.
    public var labels: ResourceLabels?
    public var document: YAMLNode
    /// kubectl-style layout (hand-written variants) instead of `cue dump` layout.
    public var indentSequences: Bool
    /// Comment lines a hand-written file puts before the document (without `# `).
    public var comment: String?

    public init(kind: ResourceKind, name: String, labels: ResourceLabels?, document: YAMLNode, indentSequences: Bool = false,
                comment: String? = nil) {
        self.kind = kind
        self.name = name
        self.labels = labels
        self.document = document
        self.indentSequences = indentSequences
        self.comment = comment
    }
}
