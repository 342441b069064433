/// A Kubernetes label selector (`matchLabels` AND `matchExpressions`). An empty
/// selector matches everything, as in Kubernetes.
public struct LabelSelector: Sendable, Hashable {
    public struct Requirement: Sendable, Hashable {
        public enum Operator: String, Sendable, Hashable, CaseIterable {
            case `in` = "In"
            case notIn = "NotIn"
            case exists = "Exists"
            case doesNotExist = "DoesNotExist"
        }

        public var key: String
        public var op: Operator
        public var values: [String]

        public init(key: String, op: Operator, values: [String] = []) {
            self.key = key
            self.op = op
            self.values = values
        }

        func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .in: return value.map(values.contains) ?? false
            case .notIn: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            }
        }
    }

    /// Sorted by key so equal selectors compare equal whatever the YAML order.
    public var matchLabels: [String: String]
    public var matchExpressions: [Requirement]

    public init(matchLabels: [String: String] = [:], matchExpressions: [Requirement] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    public var isEmpty: Bool { matchLabels.isEmpty && matchExpressions.isEmpty }

    /// Every key the selector constrains.
    public var keys: Set<String> { Set(matchLabels.keys).union(matchExpressions.map(\.key)) }

    public func matches(_ labels: [String: String]) -> Bool {
        matchLabels.allSatisfy { labels[$0.key] == $0.value } && matchExpressions.allSatisfy { $0.matches(labels) }
    }

    /// Same selector with every key rewritten (Cilium source prefixes).
    func mapKeys(_ transform: (String) -> String) -> LabelSelector {
        var labels: [String: String] = [:]
        for (k, v) in matchLabels { labels[transform(k)] = v }
        return LabelSelector(matchLabels: labels, matchExpressions: matchExpressions.map {
            Requirement(key: transform($0.key), op: $0.op, values: $0.values)
        })
    }
}

extension LabelSelector {
    /// Parses `{matchLabels, matchExpressions}`; `field` is the node's path for errors.
    init(node: YAMLNode, policy: String, field: String) throws {
        guard let pairs = node.mapPairs else {
            throw PolicyError(policy: policy, field: field, message: "expected a label selector map")
        }
        var labels: [String: String] = [:]
        var expressions: [Requirement] = []
        for (key, value) in pairs {
            switch key {
            case "matchLabels":
                guard let entries = value.mapPairs else {
                    throw PolicyError(policy: policy, field: "\(field).matchLabels", message: "expected a map of label values")
                }
                for (k, v) in entries {
                    guard let s = v.stringValue else {
                        throw PolicyError(policy: policy, field: "\(field).matchLabels.\(k)", message: "label value must be a string")
                    }
                    labels[k] = s
                }
            case "matchExpressions":
                guard let items = value.arrayValue else {
                    throw PolicyError(policy: policy, field: "\(field).matchExpressions", message: "expected a list")
                }
                for (i, item) in items.enumerated() {
                    expressions.append(try Requirement(node: item, policy: policy, field: "\(field).matchExpressions[\(i)]"))
                }
            default:
                throw PolicyError(policy: policy, field: "\(field).\(key)",
                                  message: "unknown selector field (valid: matchLabels, matchExpressions)")
            }
        }
        self.init(matchLabels: labels, matchExpressions: expressions)
    }
}

extension LabelSelector.Requirement {
    init(node: YAMLNode, policy: String, field: String) throws {
        guard let key = node["key"]?.stringValue, !key.isEmpty else {
            throw PolicyError(policy: policy, field: "\(field).key", message: "missing or not a string")
        }
        let opText = node["operator"]?.stringValue ?? ""
        guard let op = Operator(rawValue: opText) else {
            throw PolicyError(policy: policy, field: "\(field).operator",
                              message: "\"\(opText)\" is not an operator (valid: \(Operator.allCases.map(\.rawValue).joined(separator: "|")))")
        }
        var values: [String] = []
        if let raw = node["values"] {
            guard let items = raw.arrayValue else {
                throw PolicyError(policy: policy, field: "\(field).values", message: "expected a list of strings")
            }
            values = try items.enumerated().map { i, v in
                guard let s = v.stringValue else {
                    throw PolicyError(policy: policy, field: "\(field).values[\(i)]", message: "must be a string")
                }
                return s
            }
        }
        // Kubernetes validation: In/NotIn need values, Exists/DoesNotExist take none.
        let needsValues = op == .in || op == .notIn
        if needsValues && values.isEmpty {
            throw PolicyError(policy: policy, field: "\(field).values", message: "\(op.rawValue) needs at least one value")
        }
        if !needsValues && !values.isEmpty {
            throw PolicyError(policy: policy, field: "\(field).values", message: "\(op.rawValue) takes no values")
        }
        self.init(key: key, op: op, values: values)
    }
}
