import Foundation

/// `-o json`: `{"checks":[…],"summary":{…},"exitCode":N}` with keys in a fixed
/// order (scripts diff it) and optional keys omitted rather than null.
public enum JSONReport {
    public static func render(_ results: [CheckResult], summary: RunSummary) -> String {
        let checks: [JSONValue] = results.map { r in
            var pairs: [(String, JSONValue)] = [
                ("name", .string(r.name)), ("component", .string(r.component)), ("topology", .string(r.topology)),
                ("expect", .string(r.expect.rawValue)), ("result", .string(r.outcome.rawValue)),
            ]
            if let reason = r.reason { pairs.append(("reason", .string(reason))) }
            if let ready = r.readySeconds { pairs.append(("readySeconds", .number(roundedMillis(ready)))) }
            pairs.append(("restarts", .int(r.restarts)))
            if let last = r.lastFailure { pairs.append(("lastFailure", .string(last))) }
            if let drops = r.drops { pairs.append(("drops", .int(drops))) }
            return .object(pairs)
        }
        let s = summary
        let summaryValue: JSONValue = .object([
            ("total", .int(s.total)), ("passed", .int(s.passed)), ("failed", .int(s.failed)),
            ("pending", .int(s.pending)), ("skipped", .int(s.skipped)), ("unsettled", .int(s.unsettled)),
            ("inconclusive", .bool(s.inconclusive)),
        ] + (s.inconclusiveReason.map { [("inconclusiveReason", JSONValue.string($0))] } ?? []) + [
            ("durationSeconds", .number(roundedMillis(s.durationSeconds))),
        ])
        let root: JSONValue = .object([
            ("checks", .array(checks)), ("summary", summaryValue), ("exitCode", .int(Int(s.exitCode.rawValue))),
        ])
        return root.rendered(indent: 0) + "\n"
    }

    static func roundedMillis(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
}

/// Minimal ordered JSON value (Foundation's encoder does not keep key order).
enum JSONValue {
    case string(String)
    case int(Int)
    case number(Double)
    case bool(Bool)
    case array([JSONValue])
    case object([(String, JSONValue)])

    func rendered(indent: Int) -> String {
        let pad = String(repeating: "  ", count: indent + 1)
        let close = String(repeating: "  ", count: indent)
        switch self {
        case .string(let s): return JSONWriter.quote(s)
        case .int(let i): return String(i)
        case .number(let d):
            guard d.isFinite else { return "0" }
            return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case .bool(let b): return b ? "true" : "false"
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { pad + $0.rendered(indent: indent + 1) }.joined(separator: ",\n") + "\n" + close + "]"
        case .object(let pairs):
            if pairs.isEmpty { return "{}" }
            return "{\n" + pairs.map { pad + JSONWriter.quote($0.0) + ": " + $0.1.rendered(indent: indent + 1) }
                .joined(separator: ",\n") + "\n" + close + "}"
        }
    }
}
