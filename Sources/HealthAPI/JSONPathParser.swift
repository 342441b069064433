// The template grammar of client-go's util/jsonpath parser (see JSONPathTemplate.swift for the
// facts). Same accepted language and error texts; errors also carry the character offset.

struct JSONPathParser {
    enum Node {
        case text(String)
        /// The steps inside one `{…}`, and the offset of its `{`.
        case action([JSONPathStep], offset: Int)
    }

    private let input: [Unicode.Scalar]
    private var pos = 0

    init(_ template: String) { input = Array(template.unicodeScalars) }

    /// Text and actions in template order.
    mutating func parseTemplate() throws -> [Node] {
        var nodes: [Node] = []
        var text = ""
        while pos < input.count {
            if input[pos] == "{" {
                if !text.isEmpty { nodes.append(.text(text)) }
                text = ""
                let offset = pos
                pos += 1
                nodes.append(.action(try parseAction(), offset: offset))
            } else {
                text.unicodeScalars.append(input[pos])
                pos += 1
            }
        }
        if !text.isEmpty { nodes.append(.text(text)) }
        return nodes
    }

    /// The steps of a template fragment that client-go parses as one action (`{text}`): filter
    /// operands, union members and `['key']`.
    static func parseFragment(_ text: String, offset: Int) throws -> [JSONPathStep] {
        var parser = JSONPathParser("{" + text + "}")
        do {
            guard case let .action(steps, _)? = try parser.parseTemplate().first else { return [] }
            return steps
        } catch let error as JSONPathTemplate.Error {
            throw JSONPathTemplate.Error(error.message, at: offset)  // the fragment's own offsets mean nothing to the user
        }
    }

    private func error(_ message: String, at offset: Int? = nil) -> JSONPathTemplate.Error {
        JSONPathTemplate.Error(message, at: offset ?? min(pos, input.count))
    }

    private func hasPrefix(_ prefix: String) -> Bool {
        let scalars = Array(prefix.unicodeScalars)
        return pos + scalars.count <= input.count && Array(input[pos..<pos + scalars.count]) == scalars
    }

    private var peek: Unicode.Scalar? { pos < input.count ? input[pos] : nil }

    private mutating func next() -> Unicode.Scalar? {
        guard pos < input.count else { return nil }
        defer { pos += 1 }
        return input[pos]
    }

    private func text(_ range: Range<Int>) -> String {
        var s = ""
        s.unicodeScalars.append(contentsOf: input[range])
        return s
    }

    /// Inside `{…}` up to and including the closing `}`.
    private mutating func parseAction() throws -> [JSONPathStep] {
        var steps: [JSONPathStep] = []
        while true {
            if hasPrefix("}") {
                pos += 1
                return steps
            }
            if hasPrefix("[?(") {
                steps.append(try parseFilter())
                continue
            }
            if hasPrefix("..") {
                if case .recursive? = steps.last { throw error("invalid multiple recursive descent") }
                pos += 2
                steps.append(.recursive)
                if let r = peek, Self.isAlphaNumeric(r) { steps.append(parseField()) }
                continue
            }
            let start = pos
            guard let r = next(), r != "\r", r != "\n" else { throw error("unclosed action", at: start) }
            switch r {
            case " ", "@", "$":
                continue
            case "[":
                steps += try parseArray(openedAt: start)
            case "\"", "'":
                steps.append(try parseQuote(r, openedAt: start))
            case ".":
                steps.append(parseField())
            case "+", "-":
                pos = start
                steps.append(try parseNumber())
            case _ where Self.isDigit(r):
                pos = start
                steps.append(try parseNumber())
            case _ where Self.isAlphaNumeric(r):
                pos = start
                let word = scanWord()
                steps.append(word == "true" ? .bool(true) : word == "false" ? .bool(false) : .identifier(word))
            default:
                throw error("unrecognized character in action: \(Self.goUnicodeVerb(r))", at: start)
            }
        }
    }

    /// A field name up to the next unescaped terminator; a backslash keeps the next character.
    private mutating func parseField() -> JSONPathStep {
        let start = pos
        while let r = peek {
            if r == "\\" {
                pos = min(pos + 2, input.count)
            } else if Self.isTerminator(r) {
                break
            } else {
                pos += 1
            }
        }
        let name = text(start..<pos)
        return name == "*" ? .wildcard : .field(String(name.filter { $0 != "\\" }))
    }

    private mutating func scanWord() -> String {
        let start = pos
        while let r = peek, !Self.isTerminator(r) { pos += 1 }
        return text(start..<pos)
    }

    private mutating func parseNumber() throws -> JSONPathStep {
        let start = pos
        if peek == "+" || peek == "-" { pos += 1 }
        while let r = peek, r == "." || Self.isDigit(r) { pos += 1 }
        let literal = text(start..<pos)
        if let i = Int(literal) { return .int(i) }
        if literal.unicodeScalars.allSatisfy({ $0.isASCII }), let d = Double(literal) { return .double(d) }
        throw error("cannot parse number \(literal)", at: start)
    }

    /// `[…]` after its `[`: union, `'key'`, or an index/slice.
    private mutating func parseArray(openedAt start: Int) throws -> [JSONPathStep] {
        let contentStart = pos
        while true {
            guard let r = next(), r != "\n" else { throw error("unterminated array", at: start) }
            if r == "]" { break }
        }
        var content = text(contentStart..<pos - 1)
        if content == "*" { content = ":" }

        let members = content.split(separator: ",", omittingEmptySubsequences: false)
        if members.count > 1 {
            let lists = try members.map {
                try Self.parseFragment("[" + Self.trimmingSpaces($0) + "]", offset: start)
            }
            return [.union(lists)]
        }
        if content.count >= 2, content.hasPrefix("'"), content.hasSuffix("'"), !content.dropFirst().dropLast().contains("'") {
            return try Self.parseFragment("." + content.dropFirst().dropLast(), offset: start)
        }
        return [.slice(try parseSlice(content, at: start))]
    }

    /// client-go's `^(-?\d*)(:-?\d*)?(:-?\d*)?$`; an absent end means start+1 (a single index).
    private func parseSlice(_ content: String, at start: Int) throws -> JSONPathStep.Slice {
        let parts = content.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let isInteger = { (s: String) in
            let digits = s.hasPrefix("-") ? s.dropFirst() : s[...]
            return digits.allSatisfy { $0.isASCII && $0.isNumber }
        }
        guard parts.count <= 3, parts.allSatisfy(isInteger) else { throw error("invalid array index \(content)", at: start) }
        func number(_ s: String) throws -> Int? {
            if s.isEmpty { return nil }
            guard let n = Int(s) else { throw error("array index \(s) is not a number", at: start) }
            return n
        }
        let first = try number(parts[0])
        if parts.count == 1 {
            return .init(start: first, end: (first ?? 0) + 1, endDerived: true, step: nil)
        }
        return .init(start: first, end: try number(parts[1]), endDerived: false,
                     step: parts.count > 2 ? try number(parts[2]) : nil)
    }

    /// `[?(…)]` from its `[`: scans to the `)` outside quotes, then splits at the operator.
    private mutating func parseFilter() throws -> JSONPathStep {
        let start = pos
        pos += 3
        let contentStart = pos
        var inQuote = false, quoteClosed = false
        var pair: Unicode.Scalar = "\""
        while true {
            guard let r = next(), r != "\n" else { throw error("unterminated filter", at: start) }
            if r == "\"" || r == "'" {
                if !inQuote {
                    inQuote = true
                    pair = r
                } else if r == pair, input[pos - 2] != "\\" {
                    quoteClosed = true
                }
            } else if r == ")", inQuote == quoteClosed {
                break
            }
        }
        guard next() == "]" else { throw error("unclosed array expect ]", at: start) }
        let content = text(contentStart..<pos - 2)

        // client-go: ^([^!<>=]+)([!<>=]+)(.+?)$
        let isOperator = { (c: Character) in "!<>=".contains(c) }
        guard let opStart = content.firstIndex(where: isOperator), opStart != content.startIndex else {
            return .filter(JSONPathFilter(left: try Self.parseFragment(content, offset: start), op: nil, right: []))
        }
        var opEnd = content[opStart...].firstIndex { !isOperator($0) } ?? content.endIndex
        if opEnd == content.endIndex {
            // The right operand needs one character: the regexp gives it the operator's last.
            guard content.distance(from: opStart, to: opEnd) > 1 else {
                return .filter(JSONPathFilter(left: try Self.parseFragment(content, offset: start), op: nil, right: []))
            }
            opEnd = content.index(before: opEnd)
        }
        return .filter(JSONPathFilter(left: try Self.parseFragment(String(content[..<opStart]), offset: start),
                                      op: String(content[opStart..<opEnd]),
                                      right: try Self.parseFragment(String(content[opEnd...]), offset: start)))
    }

    /// A quoted literal after its opening quote, unquoted like Go's strconv.Unquote.
    private mutating func parseQuote(_ quote: Unicode.Scalar, openedAt start: Int) throws -> JSONPathStep {
        while true {
            guard let r = next(), r != "\n" else { throw error("unterminated quoted string", at: start) }
            if r == quote, input[pos - 2] != "\\" { break }
        }
        let literal = text(start..<pos)
        guard let value = Self.unquote(Array(input[start + 1..<pos - 1]), quote: quote) else {
            throw error("unquote string \(literal) error invalid syntax", at: start)
        }
        return .text(value)
    }

    /// strconv.UnquoteChar over the body: Go escapes, the other quote kind allowed unescaped.
    private static func unquote(_ body: [Unicode.Scalar], quote: Unicode.Scalar) -> String? {
        var bytes: [UInt8] = []
        var i = 0
        func hex(_ count: Int) -> UInt32? {
            guard i + count <= body.count else { return nil }
            var value: UInt32 = 0
            for scalar in body[i..<i + count] {
                guard let digit = Character(scalar).hexDigitValue else { return nil }
                value = value * 16 + UInt32(digit)
            }
            i += count
            return value
        }
        func append(_ value: UInt32) -> Bool {
            guard let scalar = Unicode.Scalar(value) else { return false }
            bytes += Array(String(Character(scalar)).utf8)
            return true
        }
        while i < body.count {
            let c = body[i]
            i += 1
            if c == quote { return nil }
            guard c == "\\" else {
                bytes += Array(String(Character(c)).utf8)
                continue
            }
            guard i < body.count else { return nil }
            let e = body[i]
            i += 1
            switch e {
            case "a": bytes.append(7)
            case "b": bytes.append(8)
            case "f": bytes.append(12)
            case "n": bytes.append(10)
            case "r": bytes.append(13)
            case "t": bytes.append(9)
            case "v": bytes.append(11)
            case "\\": bytes.append(92)
            case "'", "\"":
                guard e == quote else { return nil }
                bytes.append(UInt8(e.value))
            case "x":
                guard let v = hex(2) else { return nil }
                bytes.append(UInt8(v))
            case "u":
                guard let v = hex(4), append(v) else { return nil }
            case "U":
                guard let v = hex(8), append(v) else { return nil }
            case "0"..."7":
                guard i + 2 <= body.count else { return nil }
                var v = e.value - 48
                for digit in body[i..<i + 2] {
                    guard ("0"..."7").contains(digit) else { return nil }
                    v = v * 8 + digit.value - 48
                }
                guard v <= 255 else { return nil }
                i += 2
                bytes.append(UInt8(v))
            default:
                return nil
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Go's strings.Trim(s, " ").
    static func trimmingSpaces(_ s: Substring) -> String {
        String(s.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }

    static func isTerminator(_ r: Unicode.Scalar) -> Bool {
        " \t\r\n.,[]$@{}".unicodeScalars.contains(r)
    }

    static func isDigit(_ r: Unicode.Scalar) -> Bool { r.properties.numericType == .decimal }

    static func isAlphaNumeric(_ r: Unicode.Scalar) -> Bool {
        switch r.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: r == "_" || isDigit(r)
        }
    }

    /// Go's `%#U`: "U+0025 '%'" (the character only when printable).
    static func goUnicodeVerb(_ r: Unicode.Scalar) -> String {
        let hex = String(r.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        switch r.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator:
            return code
        default:
            return r == " " || !r.properties.isWhitespace ? "\(code) '\(Character(r))'" : code
        }
    }
}
