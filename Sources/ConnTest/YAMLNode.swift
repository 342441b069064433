/// A minimal ordered document tree. Key order is part of the output contract
/// (the upstream files are compared byte for byte), so maps keep insertion order.
public indirect enum YAMLNode: Equatable, Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case map([(String, YAMLNode)])
    case seq([YAMLNode])
    /// A node with a presentation style of its own: hand-written files (the -ipv6 variant)
    /// quote and flow values where no emitter rule would. Readers see only the content.
    case styled(YAMLNode, YAMLStyle)

    /// The node without presentation styles.
    public var content: YAMLNode {
        if case let .styled(node, _) = self { return node.content }
        return self
    }

    public static func == (lhs: YAMLNode, rhs: YAMLNode) -> Bool {
        switch (lhs.content, rhs.content) {
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
        guard case let .map(pairs) = content else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    public var stringValue: String? {
        if case let .string(s) = content { return s }
        return nil
    }

    public var intValue: Int? {
        if case let .int(i) = content { return i }
        return nil
    }

    public var arrayValue: [YAMLNode]? {
        if case let .seq(items) = content { return items }
        return nil
    }

    /// Follows a path of map keys.
    public func value(at path: String...) -> YAMLNode? {
        var node: YAMLNode? = self
        for key in path { node = node?[key] }
        return node
    }
}

/// How a hand-written file presents a node.
public enum YAMLStyle: Sendable, Equatable {
    /// `"text"` whether or not the scalar needs quotes.
    case doubleQuoted
    /// `'text'`.
    case singleQuoted
    /// A sequence on one line with double-quoted items: `["a", "b"]`, or `[ "a", "b" ]` when padded.
    case flow(padded: Bool)
    /// A map whose keys are double-quoted.
    case quotedKeys
}

extension YAMLNode {
    func styled(_ style: YAMLStyle) -> YAMLNode { .styled(self, style) }

    /// The outermost presentation style, if any.
    var style: YAMLStyle? {
        if case let .styled(_, style) = self { return style }
        return nil
    }
}

/// Small builders that keep the resource definitions readable.
func strings(_ values: [String]) -> YAMLNode { .seq(values.map(YAMLNode.string)) }
