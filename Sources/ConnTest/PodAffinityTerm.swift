/// A required (podAffinity|podAntiAffinity) term. Only `topologyKey:
/// kubernetes.io/hostname` is modelled: local nodes have no zones.
public struct PodAffinityTerm: Sendable, Equatable {
    public enum Kind: String, Sendable { case affinity = "pod affinity", antiAffinity = "pod anti-affinity" }

    public struct Requirement: Sendable, Equatable {
        public enum Operator: String, Sendable { case `in` = "In", notIn = "NotIn", exists = "Exists", doesNotExist = "DoesNotExist" }
        public var key: String
        public var op: Operator
        public var values: [String]

        public init(key: String, op: Operator, values: [String]) {
            self.key = key
            self.op = op
            self.values = values
        }

        func matches(_ labels: [String: String]) -> Bool {
            switch op {
            case .in: return labels[key].map(values.contains) ?? false
            case .notIn: return labels[key].map { !values.contains($0) } ?? true
            case .exists: return labels[key] != nil
            case .doesNotExist: return labels[key] == nil
            }
        }
    }

    public static let hostnameTopologyKey = "kubernetes.io/hostname"

    public var kind: Kind
    /// matchLabels are folded in as `In [value]` requirements.
    public var requirements: [Requirement]

    public init(kind: Kind, requirements: [Requirement]) {
        self.kind = kind
        self.requirements = requirements
    }

    /// Kubernetes: an empty selector matches nothing in affinity terms.
    public func matches(_ labels: [String: String]) -> Bool {
        !requirements.isEmpty && requirements.allSatisfy { $0.matches(labels) }
    }

    /// Human-readable target, e.g. `echo-b` for `name In [echo-b]`.
    public var targetDescription: String {
        if requirements.count == 1, let r = requirements.first, r.key == "name", r.op == .in {
            return r.values.joined(separator: ",")
        }
        return requirements.map { "\($0.key) \($0.op.rawValue) [\($0.values.joined(separator: ","))]" }.joined(separator: ", ")
    }

    /// Parses `spec.template.spec.affinity`; preferred terms are ignored (they never block scheduling).
    static func parse(_ affinity: YAMLNode?, deployment: String) throws -> [PodAffinityTerm] {
        guard let affinity else { return [] }
        var terms: [PodAffinityTerm] = []
        for (key, kind) in [("podAffinity", Kind.affinity), ("podAntiAffinity", Kind.antiAffinity)] {
            for term in affinity.value(at: key, "requiredDuringSchedulingIgnoredDuringExecution")?.arrayValue ?? [] {
                let topologyKey = term["topologyKey"]?.stringValue ?? ""
                guard topologyKey == hostnameTopologyKey else {
                    throw ConnTestError("deployment \(deployment): \(key) topologyKey \"\(topologyKey)\" is not supported locally (only \(hostnameTopologyKey))")
                }
                var requirements: [Requirement] = []
                for (k, v) in term.value(at: "labelSelector", "matchLabels")?.mapPairs ?? [] {
                    requirements.append(Requirement(key: k, op: .in, values: [v.stringValue ?? ""]))
                }
                for expr in term.value(at: "labelSelector", "matchExpressions")?.arrayValue ?? [] {
                    guard let k = expr["key"]?.stringValue, let raw = expr["operator"]?.stringValue,
                          let op = Requirement.Operator(rawValue: raw) else {
                        throw ConnTestError("deployment \(deployment): unsupported \(key) matchExpression")
                    }
                    requirements.append(Requirement(key: k, op: op, values: expr["values"]?.arrayValue?.compactMap(\.stringValue) ?? []))
                }
                terms.append(PodAffinityTerm(kind: kind, requirements: requirements))
            }
        }
        return terms
    }
}
