import Foundation

/// Human output in the cilium-cli style (§2.5): a table, per-check detail lines, one summary line.
public enum ConsoleReport {
    static let headers = ["NAME", "COMPONENT", "TOPOLOGY", "EXPECT", "RESULT", "READY-IN", "RESTARTS"]

    /// Table plus a `  ↳ name: detail` line for every non-passing check, then the summary line.
    public static func render(_ results: [CheckResult], summary: RunSummary, timeoutSeconds: Double? = nil) -> String {
        var rows = [headers]
        for r in results {
            rows.append([r.name, r.component, r.topology, r.expect.rawValue, r.outcome.rawValue,
                         r.readySeconds.map(seconds) ?? "-", String(r.restarts)])
        }
        let widths = headers.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var out = rows.map { row in
            row.indices.map { i in i == row.count - 1 ? row[i] : row[i].padding(toLength: widths[i] + 2, withPad: " ", startingAt: 0) }
                .joined()
        }.joined(separator: "\n") + "\n"
        let details = results.compactMap { r -> String? in
            guard r.outcome != .pass else { return nil }
            let parts = [r.reason, r.lastFailure].compactMap { $0 }
            return parts.isEmpty ? nil : "  ↳ \(r.name): " + parts.joined(separator: "; ")
        }
        if !details.isEmpty { out += "\n" + details.joined(separator: "\n") + "\n" }
        return out + "\n" + summaryLine(summary, timeoutSeconds: timeoutSeconds) + "\n"
    }

    /// `✅ 11/11 checks passed`, `❌ 2/8 checks failed, 1 pending, 2 skipped`,
    /// `⌛ inconclusive: 3/11 checks not settled after 120s, …`. The denominator is
    /// the checks that ran; pending and skipped are listed after it.
    public static func summaryLine(_ s: RunSummary, timeoutSeconds: Double? = nil) -> String {
        var tail: [String] = []
        if s.pending > 0 { tail.append("\(s.pending) pending") }
        if s.skipped > 0 { tail.append("\(s.skipped) skipped") }
        let suffix = tail.isEmpty ? "" : ", " + tail.joined(separator: ", ")
        let noun = s.executed == 1 ? "check" : "checks"
        switch s.exitCode {
        case .failure:
            return "❌ \(s.failed)/\(s.executed) \(noun) failed\(suffix)"
        case .inconclusive where s.executed == 0:
            return "⌛ inconclusive: no check ran\(s.total == 0 ? " (the selection matched no check)" : "")\(suffix)"
        case .inconclusive:
            let after = timeoutSeconds.map { " after \(seconds($0))" } ?? ""
            return "⌛ inconclusive: \(s.unsettled)/\(s.executed) \(noun) not settled\(after), \(s.passed) passed\(suffix)"
        case .success, .usage:
            return "✅ \(s.passed)/\(s.executed) \(noun) passed\(suffix)"
        }
    }

    /// One line for a redrawn status while waiting:
    /// `⌛ [12.0s] 7/11 ready, 1 failing, 2 waiting, 1 pending`.
    public static func progressLine(_ p: RunProgress) -> String {
        var parts = ["\(p.ready)/\(p.total) ready"]
        if p.failing > 0 { parts.append("\(p.failing) failing") }
        if p.waiting > 0 { parts.append("\(p.waiting) waiting") }
        if p.pending > 0 { parts.append("\(p.pending) pending") }
        if p.skipped > 0 { parts.append("\(p.skipped) skipped") }
        return "⌛ [\(seconds(p.elapsedSeconds))] " + parts.joined(separator: ", ")
    }

    /// `1.2s`; one decimal is plenty at probe-period granularity.
    static func seconds(_ value: Double) -> String {
        String(format: "%.1fs", value)
    }
}
