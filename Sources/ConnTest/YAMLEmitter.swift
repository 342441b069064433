/// Deterministic block-style YAML writer reproducing the layout of the upstream
/// files (Go yaml.v2 as used by `cue dump`): compact sequences under map keys,
/// double quotes for strings that would otherwise parse as another type, single
/// quotes for strings that cannot be plain, and folding of long scalars at column 80.
public struct YAMLEmitter: Sendable {
    /// kubectl-style documents (the hand-written variants) indent sequences under their key.
    public var indentSequences: Bool
    /// yaml.v2's `best_width`.
    public var lineWidth = 80

    public init(indentSequences: Bool = false) {
        self.indentSequences = indentSequences
    }

    public func emit(_ node: YAMLNode) -> String {
        var out = ""
        switch node.content {
        case .map(let pairs) where !pairs.isEmpty:
            writeMap(pairs, indent: 0, quoteKeys: node.style == .quotedKeys, into: &out)
        case .seq(let items) where !items.isEmpty:
            writeSeq(items, indent: 0, into: &out)
        default:
            out += inline(node, indent: 0, column: 0) + "\n"
        }
        return out
    }

    private func writeMap(_ pairs: [(String, YAMLNode)], indent: Int, quoteKeys: Bool = false, into out: inout String,
                          firstLinePrefixed: Bool = false) {
        for (index, (key, value)) in pairs.enumerated() {
            if !(firstLinePrefixed && index == 0) { out += String(repeating: " ", count: indent) }
            let keyText = quoteKeys ? doubleQuoted(key) : scalar(key, indent: indent, column: indent)
            switch (value.content, value.style) {
            case (.map(let children), let style) where !children.isEmpty:
                out += keyText + ":\n"
                writeMap(children, indent: indent + 2, quoteKeys: style == .quotedKeys, into: &out)
            case (.seq(let items), .flow(let padded)?) where !items.isEmpty:
                out += keyText + ": " + flow(items, padded: padded) + "\n"
            case (.seq(let items), _) where !items.isEmpty:
                out += keyText + ":\n"
                writeSeq(items, indent: indentSequences ? indent + 2 : indent, into: &out)
            default:
                let column = indent + keyText.count + 2
                out += keyText + ": " + inline(value, indent: indent + 2, column: column) + "\n"
            }
        }
    }

    private func writeSeq(_ items: [YAMLNode], indent: Int, into out: inout String) {
        for item in items {
            out += String(repeating: " ", count: indent) + "- "
            switch item.content {
            case .map(let pairs) where !pairs.isEmpty:
                writeMap(pairs, indent: indent + 2, quoteKeys: item.style == .quotedKeys, into: &out, firstLinePrefixed: true)
            case .seq(let inner) where !inner.isEmpty:
                // Nested sequences do not occur in these manifests; keep valid YAML anyway.
                out += "\n"
                writeSeq(inner, indent: indent + 2, into: &out)
            default:
                out += inline(item, indent: indent + 2, column: indent + 2) + "\n"
            }
        }
    }

    private func inline(_ node: YAMLNode, indent: Int, column: Int) -> String {
        switch node {
        case .styled(.string(let s), .doubleQuoted): return doubleQuoted(s)
        case .styled(.string(let s), .singleQuoted): return "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
        case .styled(let inner, _): return inline(inner, indent: indent, column: column)
        case .string(let s): return scalar(s, indent: indent, column: column)
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .map: return "{}"
        case .seq: return "[]"
        }
    }

    /// `["a", "b"]`: items as JSON-style strings, the way the hand-written files spell them.
    private func flow(_ items: [YAMLNode], padded: Bool) -> String {
        let pad = padded ? " " : ""
        return "[" + pad + items.map { item in
            if case let .string(s) = item.content { return doubleQuoted(s) }
            return inline(item, indent: 0, column: 0)
        }.joined(separator: ", ") + pad + "]"
    }

    // MARK: scalar styles

    func scalar(_ s: String, indent: Int, column: Int) -> String {
        if YAMLScalarRules.resolvesToNonString(s) { return doubleQuoted(s) }
        if YAMLScalarRules.canBePlain(s) { return folded(s, quote: "", indent: indent, column: column) }
        return folded(s.replacingOccurrences(of: "'", with: "''"), quote: "'", indent: indent, column: column)
    }

    private func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for ch in s {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.append(ch)
            }
        }
        return out + "\""
    }

    /// yaml.v2 breaks a plain or single-quoted scalar at a single space once the
    /// column has passed `lineWidth`; the continuation line starts at `indent`.
    private func folded(_ s: String, quote: String, indent: Int, column start: Int) -> String {
        let chars = Array(s)
        var out = quote
        var column = start + quote.count
        var previousWasSpace = false
        for (pos, ch) in chars.enumerated() {
            if ch == " " {
                let nextIsSpace = pos + 1 < chars.count && chars[pos + 1] == " "
                let interior = pos != 0 && pos != chars.count - 1
                if !previousWasSpace && column > lineWidth && interior && !nextIsSpace {
                    out += "\n" + String(repeating: " ", count: indent)
                    column = indent
                } else {
                    out.append(ch)
                    column += 1
                }
                previousWasSpace = true
            } else {
                out.append(ch)
                column += 1
                previousWasSpace = false
            }
        }
        return out + quote
    }
}

/// The resolution and style rules of YAML 1.1 as implemented by Go's yaml.v2.
enum YAMLScalarRules {
    private static let boolOrNull: Set<String> = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
        "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF",
        "", "~", "null", "Null", "NULL",
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN",
    ]

    /// True when a plain rendering would be read back as a number, bool or null.
    static func resolvesToNonString(_ s: String) -> Bool {
        if boolOrNull.contains(s) { return true }
        let plain = s.replacingOccurrences(of: "_", with: "")
        guard let first = plain.first, "+-.0123456789".contains(first) else { return false }
        if Int(plain) != nil { return true }
        if plain.hasPrefix("0x") || plain.hasPrefix("0b") { return Int(plain.dropFirst(2), radix: plain.hasPrefix("0x") ? 16 : 2) != nil }
        // Go's ParseFloat accepts the decimal and exponent forms only.
        if plain.allSatisfy({ "+-.0123456789eE".contains($0) }), Double(plain) != nil { return true }
        return false
    }

    /// Mirrors yaml_emitter_analyze_scalar for block context.
    static func canBePlain(_ s: String) -> Bool {
        let chars = Array(s)
        guard let first = chars.first, let last = chars.last else { return false }
        if first == " " || last == " " { return false }
        if s.hasPrefix("---") || s.hasPrefix("...") { return false }
        for (i, ch) in chars.enumerated() {
            let next: Character? = i + 1 < chars.count ? chars[i + 1] : nil
            let followedByBlank = next == nil || next == " "
            let precededByBlank = i == 0 || chars[i - 1] == " "
            if ch == "\n" || ch == "\t" { return false }
            if i == 0 {
                if "#,[]{}&*!|>'\"%@`".contains(ch) { return false }
                if (ch == "?" || ch == ":" || ch == "-") && followedByBlank { return false }
            } else {
                if ch == ":" && followedByBlank { return false }
                if ch == "#" && precededByBlank { return false }
            }
        }
        return true
    }
}
