import Foundation
import HealthAPI

/// `--junit-file` output, shaped and laid out as cilium-cli's (§2.6): Go
/// encoding/xml with prefix "  " and indent "    ", explicit close tags, one
/// suite "connectivity test", one testcase per check. Pending checks are
/// reported as skipped (they never ran); `skipped`/`disabled` are omitted when
/// zero on the suite, exactly as Go's `omitempty` does.
public enum JUnitReport {
    /// `properties`: `--junit-property` pairs, emitted after Args in the given order (older
    /// cilium-cli releases did; v1.20 accepts them and drops them, which CI dashboards lose).
    public static func render(_ results: [CheckResult], args: [String], timestamp: Date,
                              properties: [(name: String, value: String)] = []) -> String {
        let skipped = results.filter { $0.outcome == .skipped || $0.outcome == .pending }.count
        let failures = results.filter { $0.outcome == .fail }.count
        let caseTimes = results.map { $0.outcome == .pass || $0.outcome == .fail ? $0.durationSeconds : 0 }
        // cilium-cli adds each test's time to the suite before zeroing a skipped one's.
        let total = results.reduce(0) { $0 + $1.durationSeconds }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        let e = XMLText.escape

        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"]
        lines.append("  <testsuites tests=\"\(results.count)\" disabled=\"\(skipped)\" errors=\"0\" failures=\"\(failures)\" time=\"\(goFloat(total))\">")
        lines.append("      <testsuite name=\"connectivity test\" id=\"0\" package=\"cilium\" tests=\"\(results.count)\" errors=\"0\" failures=\"\(failures)\""
            + (skipped > 0 ? " skipped=\"\(skipped)\"" : "")
            + " time=\"\(goFloat(total))\" timestamp=\"\(formatter.string(from: timestamp))\">")
        lines.append("          <properties>")
        lines.append("              <property name=\"Args\" value=\"\(e(args.joined(separator: "|")))\"></property>")
        for p in properties {
            lines.append("              <property name=\"\(e(p.name))\" value=\"\(e(p.value))\"></property>")
        }
        lines.append("          </properties>")
        for (r, time) in zip(results, caseTimes) {
            let status: String
            switch r.outcome {
            case .pass: status = "passed"
            case .fail: status = "failed"
            case .pending, .skipped: status = "skipped"
            }
            let open = "          <testcase name=\"\(e(r.name))\" classname=\"connectivity test\" status=\"\(status)\" time=\"\(goFloat(time))\">"
            switch r.outcome {
            case .pass:
                lines.append(open + "</testcase>")
            case .pending, .skipped:
                lines.append(open)
                lines.append("              <skipped message=\"\(e(r.name)) skipped\"></skipped>")
                lines.append("          </testcase>")
            case .fail:
                lines.append(open)
                lines.append("              <failure message=\"\(e(r.name)) failed\" type=\"failure\">\(e(failureDetails(r)))</failure>")
                lines.append("          </testcase>")
            }
        }
        lines.append("      </testsuite>")
        lines.append("  </testsuites>")
        return lines.joined(separator: "\n")
    }

    /// One line per fact, like cilium-cli's one line per failed action.
    static func failureDetails(_ r: CheckResult) -> String {
        var details: [String] = []
        if let reason = r.reason { details.append(reason) }
        if let last = r.lastFailure { details.append("last probe failure: \(last)") }
        if let node = r.node { details.append("node: \(node)") }
        return details.joined(separator: "\n")
    }

    /// encoding/xml writes a float64 attribute with `strconv.FormatFloat(f, 'g', -1, 64)`.
    static func goFloat(_ v: Double) -> String { GoFloatText.v(v) }

    /// Writes atomically (temp file + rename) with mode 0644. Like Go's `xml.Encoder`, no
    /// newline after the closing tag.
    public static func write(_ results: [CheckResult], args: [String], timestamp: Date,
                             properties: [(name: String, value: String)] = [], to path: String) throws {
        try OutputFile.write(render(results, args: args, timestamp: timestamp, properties: properties), to: path, mode: 0o644)
    }
}

/// One `--junit-property key=value`.
public struct JUnitProperty: Sendable, Equatable {
    public var name: String
    public var value: String

    /// `key=value`; the key must be non-empty, the value may be empty or contain '='.
    public init(parsing text: String) throws {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw ConnTestError("invalid --junit-property '\(text)': use key=value")
        }
        name = String(text[..<eq])
        value = String(text[text.index(after: eq)...])
    }
}
