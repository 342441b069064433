import Foundation

extension YAMLNode {
    /// The document as a JSON object tree (what an API server's POST body needs); styles drop out.
    public var jsonObject: Any {
        switch content {
        case .string(let s): return s
        case .int(let i): return i
        case .bool(let b): return b
        case .seq(let items): return items.map(\.jsonObject)
        case .map(let pairs):
            var out: [String: Any] = [:]
            for (k, v) in pairs { out[k] = v.jsonObject }
            return out
        case .styled: return ""  // unreachable: `content` strips styles
        }
    }

    public func jsonData() throws -> Data {
        try JSONSerialization.data(withJSONObject: jsonObject, options: [.sortedKeys])
    }

    /// A copy with `value` at `key` in this map (appended when absent); non-maps are returned unchanged.
    public func setting(_ key: String, to value: YAMLNode) -> YAMLNode {
        guard case .map(var pairs) = content else { return self }
        if let i = pairs.firstIndex(where: { $0.0 == key }) { pairs[i].1 = value } else { pairs.append((key, value)) }
        return .map(pairs)
    }

    /// A copy with `transform` applied to the node at `path` (nothing changes when the path is missing).
    public func updating(_ path: [String], _ transform: (YAMLNode) -> YAMLNode) -> YAMLNode {
        guard let first = path.first else { return transform(self) }
        guard let child = self[first] else { return self }
        return setting(first, to: child.updating(Array(path.dropFirst()), transform))
    }
}
