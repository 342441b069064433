// Go encoding/json output as upstream's `-o json` prints it (pkg/command: json.MarshalIndent(v, "", "  ")).

public enum GoJSON {
    public enum Error: Swift.Error, Equatable {
        /// Go's json.Marshal rejects NaN and ±Inf (UnsupportedValueError).
        case unsupportedValue(String)
    }

    /// `json.MarshalIndent(v, "", "  ")` followed by a newline: two-space indent, `"key": value`,
    /// `{}`/`[]` for empty containers, keys in byte order (go-swagger declares struct fields
    /// sorted by JSON name and Go sorts map keys), Go's HTML-safe string escaping.
    public static func marshalIndent<T: Encodable>(_ value: T) throws -> String {
        var out = ""
        try write(GoValue.encode(value), indent: "", pretty: true, to: &out)
        return out + "\n"
    }

    /// Exactly what upstream's `-o json` writes to stdout: `DumpJSONToString` prints the JSON
    /// with `fmt.Println` and returns "", which `dumpJSON` then prints with another Println,
    /// so the document is followed by an empty line.
    public static func commandOutput<T: Encodable>(_ value: T) throws -> String {
        try marshalIndent(value) + "\n"
    }

    /// Compact `json.Marshal(v)` (no trailing newline), e.g. for API bodies.
    public static func marshal<T: Encodable>(_ value: T) throws -> String {
        var out = ""
        try write(GoValue.encode(value), indent: "", pretty: false, to: &out)
        return out
    }

    /// Compact `json.Marshal` of an already captured tree (JSONPath prints containers this way).
    static func marshal(tree: GoValue) throws -> String {
        var out = ""
        try write(tree, indent: "", pretty: false, to: &out)
        return out
    }

    private static func write(_ value: GoValue, indent: String, pretty: Bool, to out: inout String) throws {
        switch value {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .uint(u): out += String(u)
        case let .double(d): out += try goFloat(d)
        case let .string(s): out += quote(s)
        case let .array(items):
            guard !items.isEmpty else { out += "[]"; return }
            let inner = indent + "  "
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                if pretty { out += "\n" + inner }
                try write(item, indent: inner, pretty: pretty, to: &out)
            }
            if pretty { out += "\n" + indent }
            out += "]"
        case let .object(fields, _):
            guard !fields.isEmpty else { out += "{}"; return }
            let inner = indent + "  "
            out += "{"
            for (index, field) in sortedByKey(fields).enumerated() {
                if index > 0 { out += "," }
                if pretty { out += "\n" + inner }
                out += quote(field.key) + (pretty ? ": " : ":")
                try write(field.value, indent: inner, pretty: pretty, to: &out)
            }
            if pretty { out += "\n" + indent }
            out += "}"
        }
    }

    static func sortedByKey(_ fields: [(key: String, value: GoValue)]) -> [(key: String, value: GoValue)] {
        fields.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    /// Go's string encoding with HTML escaping (the json.Marshal default).
    static func quote(_ string: String) -> String {
        let hex = Array("0123456789abcdef")
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"  // Go >= 1.22
            case "\u{0C}": out += "\\f"  // Go >= 1.22
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                let v = Int(scalar.value)
                out += "\\u" + String([hex[(v >> 12) & 0xF], hex[(v >> 8) & 0xF], hex[(v >> 4) & 0xF], hex[v & 0xF]])
            default:
                if scalar.value < 0x20 {
                    let v = Int(scalar.value)
                    out += "\\u00" + String([hex[v >> 4], hex[v & 0xF]])
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// encoding/json's float64 format: shortest round-trip digits, plain notation
    /// for 1e-6 <= |f| < 1e21, otherwise exponent form with a trimmed exponent ("1e-7", "1e+21").
    static func goFloat(_ value: Double) throws -> String {
        guard value.isFinite else { throw Error.unsupportedValue(String(describing: value)) }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        let (negative, digits, pointPosition) = ShortestDigits(value).parts
        let sign = negative ? "-" : ""
        let magnitude = Swift.abs(value)
        if magnitude < 1e-6 || magnitude >= 1e21 {
            let exponent = pointPosition - 1
            var mantissa = String(digits.first ?? "0")
            if digits.count > 1 { mantissa += "." + digits.dropFirst() }
            let expText = exponent < 0 ? "-" + String(-exponent) : "+" + String(exponent)
            // Go prints at least two exponent digits, then json trims "e-07" to "e-7" only.
            let padded = exponent >= 0 && exponent < 10 ? "+0" + String(exponent) : expText
            return sign + mantissa + "e" + padded
        }
        if pointPosition <= 0 {
            return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
        }
        if pointPosition >= digits.count {
            return sign + digits + String(repeating: "0", count: pointPosition - digits.count)
        }
        let split = digits.index(digits.startIndex, offsetBy: pointPosition)
        return sign + digits[..<split] + "." + digits[split...]
    }
}

/// Decomposes Swift's shortest round-trip rendering into sign, significant digits and the
/// decimal point position (value = 0.DIGITS × 10^pointPosition).
struct ShortestDigits {
    let parts: (negative: Bool, digits: String, pointPosition: Int)

    init(_ value: Double) {
        var text = "\(value)"
        let negative = text.hasPrefix("-")
        if negative { text.removeFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let pieces = text.split(separator: ".", omittingEmptySubsequences: false)
        let integer = pieces.first.map(String.init) ?? ""
        let fraction = pieces.count > 1 ? String(pieces[1]) : ""
        var digits = integer + fraction
        var point = integer.count + exponent
        while digits.hasPrefix("0") {
            digits.removeFirst()
            point -= 1
        }
        while digits.hasSuffix("0") { digits.removeLast() }
        parts = (negative, digits.isEmpty ? "0" : digits, point)
    }
}
