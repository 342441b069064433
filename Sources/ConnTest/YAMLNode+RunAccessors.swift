/// Read accessors the runner needs on generated documents (the generator
/// itself never reads its own output, so these live apart from YAMLNode).
extension YAMLNode {
    public var boolValue: Bool? {
        if case let .bool(b) = content { return b }
        return nil
    }

    public var mapPairs: [(String, YAMLNode)]? {
        if case let .map(pairs) = content { return pairs }
        return nil
    }

    /// Ints that arrive as strings (`"5"`) or numbers both count, as kubectl accepts both for ports.
    public var looseIntValue: Int? {
        switch content {
        case .int(let i): return i
        case .string(let s): return Int(s)
        default: return nil
        }
    }
}
