import Foundation

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
