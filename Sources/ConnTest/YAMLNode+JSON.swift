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

extension YAMLNode: Decodable {
    /// A JSON document (an API object) as a tree the policy parsers read. Map keys come sorted:
    /// JSON objects have no order. Floats become their text (no policy field holds one).
    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            // `"key": null` reads as an absent key, as the apiserver treats it.
            let keys = try keyed.allKeys.filter { !(try keyed.decodeNil(forKey: $0)) }.sorted { $0.stringValue < $1.stringValue }
            self = .map(try keys.map { ($0.stringValue, try keyed.decode(YAMLNode.self, forKey: $0)) })
            return
        }
        if var list = try? decoder.unkeyedContainer() {
            var items: [YAMLNode] = []
            while !list.isAtEnd { items.append(try list.decode(YAMLNode.self)) }
            self = .seq(items)
            return
        }
        let value = try decoder.singleValueContainer()
        if value.decodeNil() {
            self = .map([])
        } else if let b = try? value.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? value.decode(Int.self) {
            self = .int(i)
        } else if let d = try? value.decode(Double.self) {
            self = .string(String(d))
        } else {
            self = .string(try value.decode(String.self))
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
