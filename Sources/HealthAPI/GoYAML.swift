// YAML output as upstream's `-o yaml` prints it. Upstream (pkg/command/output.go) calls
// gopkg.in/yaml.v3 `yaml.Marshal` directly on the go-swagger structs, so:
// - keys are the lower-cased Go field names (json tags are ignored): "health-endpoint" →
//   "healthendpoint", "probeInterval" → "probeinterval";
// - every field is printed in declaration order (= sorted JSON name); nil pointers as `null`,
//   empty strings as `""`, nil slices as `[]` (omitempty is a json-only option);
// - yaml.v3 layout: 4-space indent, sequences indented under their key, a mapping inside a
//   sequence item aligned after "- ", deeper levels rounded up to the next multiple of 4;
// - strings that would read back as another type (null, bools, numbers, timestamps, YAML 1.1
//   bools, base-60 floats) are double-quoted; strings plain style cannot hold are single-quoted.

import Yams

public enum GoYAML {
    /// `yaml.Marshal(v)` of gopkg.in/yaml.v3, ending with a newline.
    public static func marshal<T: Encodable>(_ value: T) throws -> String {
        let tree = try GoValue.encode(value, fillZeroFields: true)
        var out = ""
        switch tree {
        case let .object(fields, _) where !fields.isEmpty:
            writeMapping(fields, isStruct: tree.isStruct, indent: 0, inSequenceItem: false, to: &out)
        case let .array(items) where !items.isEmpty:
            writeSequence(items, indent: 0, to: &out)
        default:
            out += inlineText(tree, indent: 0) + "\n"
        }
        return out
    }

    /// Exactly what upstream's `-o yaml` writes to stdout: `fmt.Println` of the marshalled
    /// text, which already ends with a newline, so an empty line follows.
    public static func commandOutput<T: Encodable>(_ value: T) throws -> String {
        try marshal(value) + "\n"
    }

    /// Parses YAML text with Yams (handy for checking a document round-trips).
    public static func parse(_ text: String) throws -> Any? {
        try Yams.load(yaml: text)
    }

    // MARK: - Layout

    private static let bestIndent = 4

    /// yaml.v3's rule for a nested block: the next multiple of 4 beyond the parent indent.
    private static func deeper(_ indent: Int) -> Int {
        bestIndent * ((indent + bestIndent) / bestIndent)
    }

    private static func writeMapping(_ fields: [(key: String, value: GoValue)], isStruct: Bool, indent: Int,
                                     inSequenceItem: Bool, to out: inout String) {
        let ordered = isStruct
            ? GoJSON.sortedByKey(fields).map { (key: yamlFieldName($0.key), value: $0.value) }
            : GoJSON.sortedByKey(fields)
        for (index, field) in ordered.enumerated() {
            // The first key of a mapping in a sequence item follows the "- " on the same line.
            if !(inSequenceItem && index == 0) { out += String(repeating: " ", count: indent) }
            out += scalarText(field.key, indent: indent) + ":"
            writeValue(field.value, parentIndent: indent, to: &out)
        }
    }

    private static func writeSequence(_ items: [GoValue], indent: Int, to out: inout String) {
        for item in items {
            out += String(repeating: " ", count: indent) + "-"
            switch item {
            case let .object(fields, isStruct) where !fields.isEmpty:
                out += " "
                writeMapping(fields, isStruct: isStruct, indent: indent + 2, inSequenceItem: true, to: &out)
            case let .array(nested) where !nested.isEmpty:
                out += "\n"
                writeSequence(nested, indent: indent + 2, to: &out)
            default:
                out += " " + inlineText(item, indent: indent + 2) + "\n"
            }
        }
    }

    /// Writes what follows "key:" — a scalar on the same line or a nested block.
    private static func writeValue(_ value: GoValue, parentIndent: Int, to out: inout String) {
        switch value {
        case let .object(fields, isStruct) where !fields.isEmpty:
            out += "\n"
            writeMapping(fields, isStruct: isStruct, indent: deeper(parentIndent), inSequenceItem: false, to: &out)
        case let .array(items) where !items.isEmpty:
            out += "\n"
            writeSequence(items, indent: deeper(parentIndent), to: &out)
        default:
            out += " " + inlineText(value, indent: parentIndent) + "\n"
        }
    }

    /// yaml.v3 derives a struct's key from the Go field name, lower-cased. go-swagger names
    /// fields by camel-casing the JSON name, so dropping '-'/'_' and lower-casing recovers it.
    static func yamlFieldName(_ jsonKey: String) -> String {
        String(jsonKey.lowercased().filter { $0 != "-" && $0 != "_" })
    }

    // MARK: - Scalars

    private static func inlineText(_ value: GoValue, indent: Int) -> String {
        switch value {
        case .null: "null"
        case let .bool(b): b ? "true" : "false"
        case let .int(i): String(i)
        case let .uint(u): String(u)
        case let .double(d): goYAMLFloat(d)
        case let .string(s): scalarText(s, indent: indent)
        case .array: "[]"
        case .object: "{}"
        }
    }

    /// yaml.v3 formats floats with strconv 'g' (shortest) and YAML spellings for specials.
    private static func goYAMLFloat(_ value: Double) -> String {
        if value.isNaN { return ".nan" }
        if value.isInfinite { return value < 0 ? "-.inf" : ".inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        let (negative, digits, point) = ShortestDigits(value).parts
        let exponent = point - 1
        let sign = negative ? "-" : ""
        if exponent < -4 || exponent >= 21 {
            var mantissa = String(digits.first ?? "0")
            if digits.count > 1 { mantissa += "." + digits.dropFirst() }
            let e = abs(exponent)
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (e < 10 ? "0" : "") + String(e)
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
        let split = digits.index(digits.startIndex, offsetBy: point)
        return sign + digits[..<split] + "." + digits[split...]
    }

    static func scalarText(_ string: String, indent: Int) -> String {
        if string.contains("\n") { return literalBlock(string, indent: indent) }
        if resolvesToNonString(string) || isBase60Float(string) || isOldBool(string) {
            return doubleQuoted(string)
        }
        if plainAllowed(string) { return string }
        if string.unicodeScalars.allSatisfy(isPrintable) { return "'" + string.replacingOccurrences("'", "''") + "'" }
        return doubleQuoted(string)
    }

    /// Literal block (`|`, `|-`, `|+`) as yaml.v3 uses for multi-line strings.
    private static func literalBlock(_ string: String, indent: Int) -> String {
        var trailing = 0
        for ch in string.unicodeScalars.reversed() {
            if ch == "\n" { trailing += 1 } else { break }
        }
        let chomp = trailing == 0 ? "-" : (trailing == 1 ? "" : "+")
        let indicator = (string.first == " " || string.first == "\n") ? String(bestIndent) : ""
        let pad = String(repeating: " ", count: deeper(indent))
        var body = string
        if trailing > 0 { body.removeLast() }
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : pad + $0 }
        // The caller appends the final newline.
        return "|" + indicator + chomp + "\n" + lines.joined(separator: "\n")
    }

    /// libyaml's is_printable: LF, printable ASCII and most of Unicode, but not TAB, CR or NEL.
    private static func isPrintable(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v == 0x0A { return true }
        if v >= 0x20 && v <= 0x7E { return true }
        if v >= 0xA0 && v <= 0xD7FF { return v != 0xFEFF }
        if v >= 0xE000 && v <= 0xFFFD { return v != 0xFEFF }
        return v >= 0x10000 && v <= 0x10FFFF
    }

    /// libyaml's analysis of whether a scalar may be written plain in block context.
    private static func plainAllowed(_ string: String) -> Bool {
        let scalars = Array(string.unicodeScalars)
        guard let first = scalars.first, let last = scalars.last else { return false }
        if first == " " || last == " " { return false }
        if string.hasPrefix("---") || string.hasPrefix("...") { return false }
        let alwaysIndicators: Set<Unicode.Scalar> = ["#", ",", "[", "]", "{", "}", "&", "*", "!", "|", ">", "'", "\"",
                                                     "%", "@", "`"]
        if alwaysIndicators.contains(first) { return false }
        for (index, ch) in scalars.enumerated() {
            if !isPrintable(ch) || ch == "\n" { return false }
            let next = index + 1 < scalars.count ? scalars[index + 1] : nil
            let followedByBlank = next == nil || next == " " || next == "\t"
            if index == 0, ch == "?" || ch == ":" || ch == "-", followedByBlank { return false }
            if index > 0, ch == ":", followedByBlank { return false }
            if index > 0, ch == "#", scalars[index - 1] == " " { return false }
        }
        return true
    }

    private static func doubleQuoted(_ string: String) -> String {
        var out = "\""
        for s in string.unicodeScalars {
            switch s {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\0": out += "\\0"
            case "\u{07}": out += "\\a"
            case "\u{08}": out += "\\b"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\u{0B}": out += "\\v"
            case "\u{0C}": out += "\\f"
            case "\r": out += "\\r"
            case "\u{1B}": out += "\\e"
            case "\u{85}": out += "\\N"
            case "\u{A0}": out += "\\_"
            case "\u{2028}": out += "\\L"
            case "\u{2029}": out += "\\P"
            default:
                if isPrintable(s) {
                    out.unicodeScalars.append(s)
                } else if s.value <= 0xFF {
                    out += "\\x" + hex(s.value, width: 2)
                } else if s.value <= 0xFFFF {
                    out += "\\u" + hex(s.value, width: 4)
                } else {
                    out += "\\U" + hex(s.value, width: 8)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    // MARK: - yaml.v3 resolve() for plain scalars

    private static let nullWords: Set<String> = ["", "~", "null", "Null", "NULL"]
    private static let boolWords: Set<String> = ["true", "True", "TRUE", "false", "False", "FALSE"]
    private static let floatWords: Set<String> = [".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF",
                                                  "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"]
    private static let oldBools: Set<String> = ["y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
                                                "n", "N", "no", "No", "NO", "off", "Off", "OFF"]

    static func isOldBool(_ s: String) -> Bool { oldBools.contains(s) }

    /// Whether yaml.v3 would read the plain scalar back as something other than a string.
    static func resolvesToNonString(_ s: String) -> Bool {
        if nullWords.contains(s) || boolWords.contains(s) || floatWords.contains(s) || s == "<<" { return true }
        guard let first = s.unicodeScalars.first else { return true }
        let isDigit = ("0"..."9").contains(first)
        guard isDigit || first == "+" || first == "-" || first == "." else { return false }
        let plain = s.replacingOccurrences("_", "")
        if isGoInteger(plain) || isYAMLFloat(plain) { return true }
        return isDigit && isTimestamp(s)
    }

    /// strconv.ParseInt/ParseUint(s, 0, 64) syntax plus yaml.v3's "0b"/"0o" forms.
    private static func isGoInteger(_ s: String) -> Bool {
        var body = Substring(s)
        if body.first == "+" || body.first == "-" { body = body.dropFirst() }
        guard !body.isEmpty else { return false }
        let lower = body.lowercased()
        func allDigits(_ text: Substring, radix: Int) -> Bool {
            !text.isEmpty && text.allSatisfy { $0.isASCII && Int(String($0), radix: radix) != nil }
        }
        let fits: Bool
        if lower.hasPrefix("0x") {
            fits = allDigits(Substring(lower.dropFirst(2)), radix: 16)
        } else if lower.hasPrefix("0b") {
            fits = allDigits(Substring(lower.dropFirst(2)), radix: 2)
        } else if lower.hasPrefix("0o") {
            fits = allDigits(Substring(lower.dropFirst(2)), radix: 8)
        } else if lower.hasPrefix("0") && lower.count > 1 {
            fits = allDigits(Substring(lower.dropFirst()), radix: 8)
        } else {
            fits = allDigits(Substring(lower), radix: 10)
        }
        // Out-of-range integers fall through to the float check in yaml.v3; treat as numbers.
        return fits
    }

    /// yaml.v3's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
    private static func isYAMLFloat(_ s: String) -> Bool {
        var chars = Substring(s)
        if chars.first == "+" || chars.first == "-" { chars = chars.dropFirst() }
        func digits(_ text: inout Substring) -> Int {
            let count = text.prefix { ("0"..."9").contains($0) }.count
            text = text.dropFirst(count)
            return count
        }
        if chars.first == "." {
            chars = chars.dropFirst()
            guard digits(&chars) > 0 else { return false }
        } else {
            guard digits(&chars) > 0 else { return false }
            if chars.first == "." {
                chars = chars.dropFirst()
                _ = digits(&chars)
            }
        }
        if chars.first == "e" || chars.first == "E" {
            chars = chars.dropFirst()
            if chars.first == "+" || chars.first == "-" { chars = chars.dropFirst() }
            guard digits(&chars) > 0 else { return false }
        }
        return chars.isEmpty
    }

    /// yaml.v3 parseTimestamp: a 4-digit year then "-", matching one of
    /// 2006-1-2T15:4:5.999999999Z07:00 (also 't'), "2006-1-2 15:4:5.999999999", "2006-1-2".
    static func isTimestamp(_ s: String) -> Bool {
        let c = Array(s.utf8)
        var i = 0
        func number(maxDigits: Int) -> Int? {
            var value = 0
            var count = 0
            while i < c.count, count < maxDigits, c[i] >= 48, c[i] <= 57 {
                value = value * 10 + Int(c[i] - 48)
                i += 1
                count += 1
            }
            return count > 0 ? value : nil
        }
        func expect(_ ch: UInt8) -> Bool {
            guard i < c.count, c[i] == ch else { return false }
            i += 1
            return true
        }
        guard let _ = number(maxDigits: 4), i == 4, expect(45),
              let month = number(maxDigits: 2), (1...12).contains(month), expect(45),
              let day = number(maxDigits: 2), (1...31).contains(day) else { return false }
        if i == c.count { return true }
        let separator = c[i]
        guard separator == 84 || separator == 116 || separator == 32 else { return false }
        i += 1
        guard let hour = number(maxDigits: 2), hour < 24, expect(58),
              let minute = number(maxDigits: 2), minute < 60, expect(58),
              let second = number(maxDigits: 2), second < 60 else { return false }
        if i < c.count, c[i] == 46 {
            i += 1
            guard number(maxDigits: 9) != nil else { return false }
        }
        if separator == 32 { return i == c.count }
        if expect(90) { return i == c.count }  // "Z"
        guard i < c.count, c[i] == 43 || c[i] == 45 else { return false }
        i += 1
        guard let zh = number(maxDigits: 2), zh < 24, expect(58), let zm = number(maxDigits: 2), zm < 60 else {
            return false
        }
        return i == c.count
    }

    /// ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ — YAML 1.1 sexagesimal, quoted by yaml.v3.
    static func isBase60Float(_ s: String) -> Bool {
        var chars = Substring(s)
        if chars.first == "+" || chars.first == "-" { chars = chars.dropFirst() }
        guard let first = chars.first, ("0"..."9").contains(first) else { return false }
        chars = chars.drop { ("0"..."9").contains($0) || $0 == "_" }
        var groups = 0
        while chars.first == ":" {
            chars = chars.dropFirst()
            let group = chars.prefix { ("0"..."9").contains($0) }
            guard (1...2).contains(group.count) else { return false }
            if group.count == 2, let lead = group.first, !("0"..."5").contains(lead) { return false }
            chars = chars.dropFirst(group.count)
            groups += 1
        }
        guard groups > 0 else { return false }
        if chars.first == "." {
            chars = chars.dropFirst().drop { ("0"..."9").contains($0) || $0 == "_" }
        }
        return chars.isEmpty
    }
}

extension GoValue {
    var isStruct: Bool {
        if case let .object(_, isStruct) = self { return isStruct }
        return false
    }
}

private extension String {
    func replacingOccurrences(_ target: Character, _ replacement: String) -> String {
        var out = ""
        for ch in self {
            if ch == target { out += replacement } else { out.append(ch) }
        }
        return out
    }
}
