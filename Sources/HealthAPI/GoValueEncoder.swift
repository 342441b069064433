// An Encoder that captures an Encodable value as a JSON-shaped tree, keeping the distinctions
// Go's encoders care about (Int64 vs Double, key order, explicit nulls). GoJSON and GoYAML
// print this tree.

/// A JSON-shaped value. Object keys keep the order they were encoded in; printers sort.
enum GoValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([GoValue])
    case object([(key: String, value: GoValue)], isStruct: Bool)

    static func == (lhs: GoValue, rhs: GoValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.int(a), .int(b)): a == b
        case let (.uint(a), .uint(b)): a == b
        case let (.double(a), .double(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a, sa), .object(b, sb)):
            sa == sb && a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }
}

/// Models that mirror a go-swagger struct list every field with its Go zero value, because
/// gopkg.in/yaml.v3 (upstream's `-o yaml`) ignores `omitempty` and prints all fields.
protocol GoStructFields {
    /// `(json key, zero value)` for every field of the upstream Go struct this type models.
    static var goFieldZeros: [(key: String, zero: GoValue)] { get }
}

extension GoValue {
    /// Captures `value`. With `fillZeroFields`, fields omitted by a `GoStructFields` type's
    /// encoder are added back with their Go zero values.
    static func encode<T: Encodable>(_ value: T, fillZeroFields: Bool = false) throws -> GoValue {
        let root = EncodingNode()
        try root.encode(value, options: .init(fillZeroFields: fillZeroFields), codingPath: [])
        return root.finish()
    }
}

private struct EncodingOptions {
    var fillZeroFields: Bool
}

/// Mutable tree node the containers write into (containers must share it by reference).
private final class EncodingNode {
    enum Content {
        case empty
        case scalar(GoValue)
        case keyed([(key: String, node: EncodingNode)])
        case unkeyed([EncodingNode])
    }

    var content: Content = .empty
    /// Zero-field schema of the innermost struct type encoded into this node, if any.
    var zeros: [(key: String, zero: GoValue)]?
    var isStruct = false

    func encode<T: Encodable>(_ value: T, options: EncodingOptions, codingPath: [any CodingKey]) throws {
        if let schema = T.self as? any GoStructFields.Type {
            isStruct = true
            if options.fillZeroFields { zeros = schema.goFieldZeros }
        }
        try value.encode(to: TreeEncoder(node: self, options: options, codingPath: codingPath))
    }

    func child(forKey key: String) -> EncodingNode {
        var pairs: [(key: String, node: EncodingNode)] = []
        if case let .keyed(existing) = content { pairs = existing }
        // Re-encoding a key replaces the earlier value, like a Go map assignment.
        if let index = pairs.firstIndex(where: { $0.key == key }) { return pairs[index].node }
        let node = EncodingNode()
        pairs.append((key, node))
        content = .keyed(pairs)
        return node
    }

    func appendChild() -> EncodingNode {
        var items: [EncodingNode] = []
        if case let .unkeyed(existing) = content { items = existing }
        let node = EncodingNode()
        items.append(node)
        content = .unkeyed(items)
        return node
    }

    func finish() -> GoValue {
        switch content {
        case .empty:
            // Nothing encoded: Go would still print the struct as an (empty) object.
            return .object(zeros.map { $0.map { ($0.key, $0.zero) } } ?? [], isStruct: isStruct)
        case let .scalar(value):
            return value
        case let .unkeyed(items):
            return .array(items.map { $0.finish() })
        case let .keyed(pairs):
            var fields = pairs.map { (key: $0.key, value: $0.node.finish()) }
            for field in zeros ?? [] where !fields.contains(where: { $0.key == field.key }) {
                fields.append((field.key, field.zero))
            }
            return .object(fields, isStruct: isStruct)
        }
    }
}

private struct TreeEncoder: Encoder {
    let node: EncodingNode
    let options: EncodingOptions
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .keyed = node.content {} else { node.content = .keyed([]) }
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, options: options, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .unkeyed = node.content {} else { node.content = .unkeyed([]) }
        return UnkeyedContainer(node: node, options: options, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(node: node, options: options, codingPath: codingPath)
    }
}

/// Maps the scalar types every container must handle onto GoValue.
private func scalar<T: Encodable>(_ value: T) -> GoValue? {
    switch value {
    case let v as Bool: .bool(v)
    case let v as String: .string(v)
    case let v as Int: .int(Int64(v))
    case let v as Int8: .int(Int64(v))
    case let v as Int16: .int(Int64(v))
    case let v as Int32: .int(Int64(v))
    case let v as Int64: .int(v)
    case let v as UInt: .uint(UInt64(v))
    case let v as UInt8: .uint(UInt64(v))
    case let v as UInt16: .uint(UInt64(v))
    case let v as UInt32: .uint(UInt64(v))
    case let v as UInt64: .uint(v)
    case let v as Double: .double(v)
    case let v as Float: .double(Double(v))
    default: nil
    }
}

private func store<T: Encodable>(_ value: T, in node: EncodingNode, options: EncodingOptions,
                                 codingPath: [any CodingKey]) throws {
    if let scalar = scalar(value) {
        node.content = .scalar(scalar)
    } else {
        try node.encode(value, options: options, codingPath: codingPath)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let options: EncodingOptions
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws {
        node.child(forKey: key.stringValue).content = .scalar(.null)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try store(value, in: node.child(forKey: key.stringValue), options: options, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type,
                                                        forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(node: node.child(forKey: key.stringValue), options: options, codingPath: codingPath + [key])
            .container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        TreeEncoder(node: node.child(forKey: key.stringValue), options: options, codingPath: codingPath + [key])
            .unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        TreeEncoder(node: node.child(forKey: "super"), options: options, codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        TreeEncoder(node: node.child(forKey: key.stringValue), options: options, codingPath: codingPath + [key])
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ index: Int) {
        stringValue = String(index)
        intValue = index
    }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.init(intValue) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let options: EncodingOptions
    let codingPath: [any CodingKey]

    var count: Int {
        if case let .unkeyed(items) = node.content { return items.count }
        return 0
    }

    mutating func encodeNil() throws {
        node.appendChild().content = .scalar(.null)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = codingPath + [IndexKey(count)]
        try store(value, in: node.appendChild(), options: options, codingPath: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey> {
        let path = codingPath + [IndexKey(count)]
        return TreeEncoder(node: node.appendChild(), options: options, codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = codingPath + [IndexKey(count)]
        return TreeEncoder(node: node.appendChild(), options: options, codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let path = codingPath + [IndexKey(count)]
        return TreeEncoder(node: node.appendChild(), options: options, codingPath: path)
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    let options: EncodingOptions
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws {
        node.content = .scalar(.null)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try store(value, in: node, options: options, codingPath: codingPath)
    }
}
