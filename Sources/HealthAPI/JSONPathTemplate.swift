// `-o jsonpath=TEMPLATE` as upstream's cilium-health evaluates it. Upstream facts this follows:
//
// cilium pkg/command/output.go (cilium/cilium, read at e0cc421a, the same in 0a0f0d9c):
// - `-o` is one string flag, help "json| yaml| jsonpath='{}'". "json" and "yaml" are matched
//   exactly; anything matching the regexp `^jsonpath\=(.*)` is a template (the rest after
//   "jsonpath="); anything else returns "couldn't find output printer".
// - An empty template ("jsonpath=") takes the plain JSON path: it prints exactly what `-o json` does.
// - The template runs through k8s.io/client-go/util/jsonpath, `jsonpath.New("").AllowMissingKeys(true)`,
//   executed on the Go value the API client decoded (the go-swagger struct), not on its JSON text.
// - A Parse or Execute error prints "Couldn't parse jsonpath expression: '<err>'" plus a newline
//   to stderr (both cases use that text). cilium-health's status and get then os.Exit(1) without
//   any "Error:" line. Output is built in a buffer first, so an error prints nothing on stdout.
// - On success the result is printed with fmt.Println: a newline always follows the output.
//
// client-go util/jsonpath (kubernetes/kubernetes staging/src/k8s.io/client-go/util/jsonpath,
// jsonpath.go and parser.go, and third_party/forked/golang/template):
// - Text outside {} is literal. Inside an action: ' ' and '@'/'$' (current object) are skipped,
//   ".name" is a field (ends at space, tab, newline, . , [ ] $ @ { }, and a backslash escapes
//   the next character), ".*" is a wildcard, ".." is recursive descent, "[...]" an index,
//   "[?(...)]" a filter, '…' or "…" a string literal unquoted like Go's strconv.Unquote (single
//   quotes allowed), numbers become int/float literals, true/false bools, `range`/`end` build
//   loops (nested loops work); any other word is "unrecognized identifier".
// - "[*]" means "[:]". "[n]" is the slice n:n+1, negative indices count from the end;
//   "[a:b]" and "[a:b:step]" are slices; out of range is an error ("array index out of bounds:
//   index N, length L"), even with AllowMissingKeys. "[a,b]" is a union. "['key']" (single
//   quotes only) is the field key.
// - Field names are JSON tag names (Go field names also match, as a fallback we do not model).
//   A missing key gives no result (AllowMissingKeys); a nil pointer gives no result when
//   stepped into, and prints as "<nil>" when it is the result itself.
// - Wildcard and ".." go over struct fields in declaration order (go-swagger: sorted by JSON
//   name), map values by sorted key, array elements in order. ".." yields every non-empty
//   container, itself first, then its descendants; scalars are reached only through a field.
// - Filters "[?(@.x OP y)]", OP one of == != < > <= >=; no operator tests existence. Missing
//   left operand: element skipped. Comparison is text/template's eq/lt: same basic kind only;
//   errors "invalid type" / "incompatible types" are ignored, so such comparisons fail except
//   "!=", which then passes.
// - Results of one action are printed separated by one space: strings raw, numbers and bools
//   via fmt (%v), maps/slices/structs as compact encoding/json. Nothing is appended.
//
// Where we differ, on purpose (Go pointers and kinds do not exist in our JSON-shaped models):
// - A struct reached through a pointer (every nested object here, e.g. `{.nodes[0]}`) prints in
//   Go's %v syntax upstream, with memory addresses for nested pointers; we print compact JSON,
//   as client-go does for struct values.
// - Upstream compares a number literal (Go int, converted to float64) with an int64 field as
//   "incompatible" (never matches, "!=" always does); we compare numbers by value.
// - "X is not array or slice" names a Go-like kind ("struct", "string", …), not the Go type.

/// A parsed client-go JSONPath template.
public struct JSONPathTemplate: Sendable {
    /// A parse or execution error. `message` is client-go's text.
    public struct Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        public let message: String
        /// Character offset (0-based) in the template where parsing failed, for parse errors.
        public let offset: Int?
        public var description: String { message }

        init(_ message: String, at offset: Int? = nil) {
            self.message = message
            self.offset = offset
        }
    }

    public let source: String
    let segments: [Segment]

    public init(_ template: String) throws {
        source = template
        var parser = JSONPathParser(template)
        let nodes = try parser.parseTemplate()
        var index = 0
        segments = try Self.structure(nodes, index: &index, inRange: false)
    }

    /// Evaluates the template on `value` as upstream does on the equivalent go-swagger struct.
    public func render<T: Encodable>(_ value: T) throws -> String {
        let root = JSONPathItem(go: try GoValue.encode(value, fillZeroFields: true), json: try GoValue.encode(value))
        var lists: [[JSONPathItem]] = []
        try execute(segments, on: [root], into: &lists)
        var out = ""
        for list in lists {
            for (index, item) in list.enumerated() {
                if index > 0 { out += " " }
                out += try item.printed()
            }
        }
        return out
    }

    // MARK: Structure

    enum Segment: Sendable {
        case text(String)
        case action([JSONPathStep])
        case range([JSONPathStep], body: [Segment])
    }

    /// Turns the flat node list into nested range blocks. A range without `{end}` runs to the end
    /// of the template, as upstream's loop does.
    private static func structure(_ nodes: [JSONPathParser.Node], index: inout Int, inRange: Bool) throws -> [Segment] {
        var segments: [Segment] = []
        while index < nodes.count {
            let node = nodes[index]
            index += 1
            switch node {
            case let .text(text):
                segments.append(.text(text))
            case let .action(steps, offset):
                if case .identifier("range") = steps.first {
                    let path = Array(steps.dropFirst())
                    try checkIdentifiers(path, offset: offset)
                    segments.append(.range(path, body: try structure(nodes, index: &index, inRange: true)))
                } else if case .identifier("end") = steps.first, steps.count == 1 {
                    guard inRange else { throw Error("not in range, nothing to end", at: offset) }
                    return segments
                } else {
                    try checkIdentifiers(steps, offset: offset)
                    segments.append(.action(steps))
                }
            }
        }
        return segments
    }

    private static func checkIdentifiers(_ steps: [JSONPathStep], offset: Int) throws {
        for case let .identifier(name) in steps {
            if name == "range" || name == "end" {
                throw Error("'\(name)' must start its own action, as in {range .nodes[*]}…{end}", at: offset)
            }
            throw Error("unrecognized identifier \(name)", at: offset)
        }
    }

    // MARK: Evaluation

    private func execute(_ segments: [Segment], on current: [JSONPathItem], into lists: inout [[JSONPathItem]]) throws {
        for segment in segments {
            switch segment {
            case let .text(text):
                lists.append([JSONPathItem(text)])
            case let .action(steps):
                lists.append(try Self.walk(steps, current))
            case let .range(path, body):
                for item in try Self.walk(path, current) {
                    try execute(body, on: [item], into: &lists)
                }
            }
        }
    }

    static func walk(_ steps: [JSONPathStep], _ input: [JSONPathItem]) throws -> [JSONPathItem] {
        var current = input
        for step in steps { current = try apply(step, current) }
        return current
    }

    private static func apply(_ step: JSONPathStep, _ input: [JSONPathItem]) throws -> [JSONPathItem] {
        switch step {
        case let .text(text): return [JSONPathItem(text)]
        case let .int(value): return input.map { _ in JSONPathItem(go: .int(Int64(value)), json: nil) }
        case let .double(value): return input.map { _ in JSONPathItem(go: .double(value), json: nil) }
        case let .bool(value): return input.map { _ in JSONPathItem(go: .bool(value), json: nil) }
        case let .field(name): return input.compactMap { $0.field(name) }
        case .wildcard: return input.flatMap { $0.children ?? [] }
        case .recursive: return input.flatMap(\.descendants)
        case let .slice(slice): return try Self.slice(slice, input)
        case let .union(lists): return try lists.flatMap { try walk($0, input) }
        case let .filter(filter): return try filter.select(input)
        case let .identifier(name): throw Error("unrecognized identifier \(name)")
        }
    }

    private static func slice(_ s: JSONPathStep.Slice, _ input: [JSONPathItem]) throws -> [JSONPathItem] {
        var result: [JSONPathItem] = []
        for item in input {
            if case .null = item.go { continue }
            guard let elements = item.elements else {
                throw Error("\(item.go.goKindName) is not array or slice")
            }
            let length = elements.count
            var start = s.start ?? 0
            if start < 0 { start += length }
            var end = s.end ?? length
            if end < 0 || (end == 0 && s.endDerived) { end += length }
            guard end != start else { return result }  // zero elements requested: upstream stops here
            if start >= length || start < 0 {
                throw Error("array index out of bounds: index \(start), length \(length)")
            }
            if end > length || end < 0 {
                throw Error("array index out of bounds: index \(end - 1), length \(length)")
            }
            if start > end { throw Error("starting index \(start) is greater than ending index \(end)") }
            let stride = s.step ?? 1
            guard stride > 0 else { throw Error("step must be > 0") }
            for i in Swift.stride(from: start, to: end, by: stride) { result.append(elements[i]) }
        }
        return result
    }
}

/// One step of an action's path.
indirect enum JSONPathStep: Sendable, Equatable {
    struct Slice: Sendable, Equatable {
        var start: Int?
        var end: Int?
        /// `[n]` is parsed as `n:n+1`; an end of 0 derived that way means "to the end".
        var endDerived: Bool
        var step: Int?
    }

    case field(String)
    case wildcard
    case recursive
    case slice(Slice)
    case union([[JSONPathStep]])
    case filter(JSONPathFilter)
    case text(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case identifier(String)
}

/// `[?(left op right)]`, or `[?(left)]` (existence).
struct JSONPathFilter: Sendable, Equatable {
    var left: [JSONPathStep]
    /// nil for an existence test.
    var op: String?
    var right: [JSONPathStep]

    func select(_ input: [JSONPathItem]) throws -> [JSONPathItem] {
        var result: [JSONPathItem] = []
        for item in input {
            // Non-iterable values are filtered as a one-element list of themselves.
            for element in item.children ?? [item] {
                // With AllowMissingKeys upstream ignores errors on the left-hand side.
                let lefts = (try? JSONPathTemplate.walk(left, [element])) ?? []
                if lefts.isEmpty { continue }
                guard lefts.count == 1 else { throw JSONPathTemplate.Error("can only compare one element at a time") }
                guard let op else {
                    result.append(element)
                    continue
                }
                let rights = try JSONPathTemplate.walk(right, [element])
                if rights.isEmpty { continue }
                guard rights.count == 1 else { throw JSONPathTemplate.Error("can only compare one element at a time") }
                if try Self.compare(lefts[0].go, op, rights[0].go) { result.append(element) }
            }
        }
        return result
    }

    /// text/template's comparisons as client-go uses them: a comparison of unlike or
    /// uncomparable values is false, except `!=`, which is true.
    static func compare(_ l: GoValue, _ op: String, _ r: GoValue) throws -> Bool {
        let equal = l.comparableEqual(r)
        let less = l.comparableLess(r)
        switch op {
        case "==": return equal ?? false
        case "!=": return !(equal ?? false)
        case "<": return less ?? false
        case ">=": return less.map { !$0 } ?? false
        case "<=":
            guard let less, let equal else { return false }
            return less || equal
        case ">":
            guard let less, let equal else { return false }
            return !(less || equal)
        default: throw JSONPathTemplate.Error("unrecognized filter operator \(op)")
        }
    }
}

/// A value during evaluation: the Go struct view (every field, nil pointers as `.null`) used
/// for navigation, and the matching JSON encoding (omitempty applied) used to print containers.
struct JSONPathItem {
    var go: GoValue
    var json: GoValue?

    init(go: GoValue, json: GoValue?) {
        self.go = go
        self.json = json
    }

    init(_ text: String) { self.init(go: .string(text), json: nil) }

    func field(_ name: String) -> JSONPathItem? {
        guard case let .object(fields, _) = go, let value = fields.first(where: { $0.key == name })?.value else {
            return nil
        }
        var counterpart: GoValue?
        if case let .object(jsonFields, _) = json { counterpart = jsonFields.first { $0.key == name }?.value }
        return JSONPathItem(go: value, json: counterpart)
    }

    /// Array elements, or nil when this is not an array.
    var elements: [JSONPathItem]? {
        guard case let .array(items) = go else { return nil }
        var counterparts: [GoValue] = []
        if case let .array(jsonItems) = json, jsonItems.count == items.count { counterparts = jsonItems }
        return items.enumerated().map { JSONPathItem(go: $1, json: counterparts.isEmpty ? nil : counterparts[$0]) }
    }

    /// What `[*]`, `.*` and `..` iterate: array elements, or struct fields / map values in key
    /// order; nil for scalars and nil pointers.
    var children: [JSONPathItem]? {
        switch go {
        case .array: return elements
        case let .object(fields, _):
            return GoJSON.sortedByKey(fields).compactMap { field(for: $0.key, value: $0.value) }
        default: return nil
        }
    }

    private func field(for key: String, value: GoValue) -> JSONPathItem {
        var counterpart: GoValue?
        if case let .object(jsonFields, _) = json { counterpart = jsonFields.first { $0.key == key }?.value }
        return JSONPathItem(go: value, json: counterpart)
    }

    /// `..`: every non-empty container, itself first, then depth-first.
    var descendants: [JSONPathItem] {
        guard let children, !children.isEmpty else { return [] }
        return [self] + children.flatMap(\.descendants)
    }

    /// client-go's PrintResults text for one result.
    func printed() throws -> String {
        switch go {
        case .null: return "<nil>"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .uint(u): return String(u)
        case let .double(d): return GoFloatText.v(d)
        case let .string(s): return s
        case .array, .object: return try GoJSON.marshal(tree: json ?? go)
        }
    }
}

extension GoValue {
    /// The Go kind named in "… is not array or slice".
    var goKindName: String {
        switch self {
        case .null: "nil"
        case .bool: "bool"
        case .int: "int64"
        case .uint: "uint64"
        case .double: "float64"
        case .string: "string"
        case .array: "slice"
        case let .object(_, isStruct): isStruct ? "struct" : "map[string]interface {}"
        }
    }

    /// eq: nil when the kinds cannot be compared. Numbers compare by value (see header).
    func comparableEqual(_ other: GoValue) -> Bool? {
        switch (self, other) {
        case let (.string(a), .string(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        default: return GoNumber(self).flatMap { a in GoNumber(other).map { a.compare(to: $0) == 0 } }
        }
    }

    /// lt: nil when the kinds cannot be ordered (bools, containers, unlike kinds).
    func comparableLess(_ other: GoValue) -> Bool? {
        if case let .string(a) = self, case let .string(b) = other {
            return a.utf8.lexicographicallyPrecedes(b.utf8)  // Go compares strings bytewise
        }
        return GoNumber(self).flatMap { a in GoNumber(other).map { a.compare(to: $0) < 0 } }
    }
}

/// A numeric GoValue, compared exactly between integers and as Double otherwise.
private enum GoNumber {
    case int(Int64), uint(UInt64), double(Double)

    init?(_ value: GoValue) {
        switch value {
        case let .int(i): self = .int(i)
        case let .uint(u): self = .uint(u)
        case let .double(d): self = .double(d)
        default: return nil
        }
    }

    var asDouble: Double {
        switch self {
        case let .int(i): Double(i)
        case let .uint(u): Double(u)
        case let .double(d): d
        }
    }

    /// -1, 0, 1 (NaN compares as unordered: 1, so neither < nor ==).
    func compare(to other: GoNumber) -> Int {
        switch (self, other) {
        case let (.int(a), .int(b)): return a < b ? -1 : (a == b ? 0 : 1)
        case let (.uint(a), .uint(b)): return a < b ? -1 : (a == b ? 0 : 1)
        case let (.int(a), .uint(b)): return a < 0 || UInt64(a) < b ? -1 : (UInt64(a) == b ? 0 : 1)
        case let (.uint(a), .int(b)): return b < 0 || a > UInt64(b) ? 1 : (a == UInt64(b) ? 0 : -1)
        default:
            let a = asDouble, b = other.asDouble
            return a < b ? -1 : (a == b ? 0 : 1)
        }
    }
}

/// Go's fmt `%v` for a float64 (strconv 'g', shortest digits): exponent form when the decimal
/// exponent is < -4 or >= 6 (not JSON's 21), with at least two exponent digits ("1e+06").
public enum GoFloatText {
    public static func v(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        let (negative, digits, point) = ShortestDigits(value).parts
        let sign = negative ? "-" : ""
        let exponent = point - 1
        if exponent < -4 || exponent >= 6 {
            var mantissa = String(digits.prefix(1))
            if digits.count > 1 { mantissa += "." + digits.dropFirst() }
            let magnitude = Swift.abs(exponent)
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + String(magnitude)
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
        let split = digits.index(digits.startIndex, offsetBy: point)
        return sign + digits[..<split] + "." + digits[split...]
    }
}
