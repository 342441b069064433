/// A minimal ordered document tree. Key order is part of the output contract
/// (the upstream files are compared byte for byte), so maps keep insertion order.
public indirect enum YAMLNode: Equatable, Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case map([(String, YAMLNode)])
    case seq([YAMLNode])

    public static func == (lhs: YAMLNode, rhs: YAMLNode) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case let (.seq(a), .seq(b)): return a == b
        case let (.map(a), .map(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Value for `key` when this node is a map.
    public subscript(key: String) -> YAMLNode? {
        guard case let .map(pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    public var intValue: Int? {
        if case let .int(i) = self { return i }
        return nil
    }

    public var arrayValue: [YAMLNode]? {
        if case let .seq(items) = self { return items }
        return nil
    }

    /// Follows a path of map keys.
    public func value(at path: String...) -> YAMLNode? {
        var node: YAMLNode? = self
        for key in path { node = node?[key] }
        return node
    }
}

/// Small builders that keep the resource definitions readable.
func strings(_ values: [String]) -> YAMLNode { .seq(values.map(YAMLNode.string)) }
