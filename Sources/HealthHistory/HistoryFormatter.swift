import Foundation
import HealthAPI

/// Text forms of a history answer: an aligned table (upstream's tabwriter settings) and CSV.
public enum HistoryFormatter {
    public static func table(_ r: HistoryResponse) -> String {
        var w = TabWriter(minWidth: 2, tabWidth: 0, padding: 3, padChar: " ")
        let step = HistoryQuery.text(.seconds(r.stepSeconds)), trend = HistoryQuery.text(.seconds(r.trendWindowSeconds))
        w.write("History of \(r.source) since \(r.since) (step \(step))\n")
        guard !r.series.isEmpty else {
            w.write("  no samples in this range\n")
            return w.flush()
        }
        w.write("Node\tIP\tPath\tProto\tWindow\tSamples\tLoss\tp50\tp90\tp99\n")
        for s in r.series {
            let t = s.target
            // Windows from before a target's first sample (`--since 7d` on a day-old agent) are not shown;
            // an empty window after it is a gap in the probing and is.
            for win in s.windows.drop(while: { $0.samples == 0 }) {
                let loss = win.samples == 0 ? "-" : String(format: "%.1f%%", win.lossPercent)
                w.write("  \(t.shortNode)\t\(t.ip)\t\(t.path)\t\(t.protocol)\t\(win.start)\t\(win.samples)\t\(loss)\t"
                        + "\(rtt(win.p50))\t\(rtt(win.p90))\t\(rtt(win.p99))\n")
            }
        }
        w.write("Trend: last \(trend) against the \(trend) before (Mann-Whitney U, p < 0.05, median change ≥ 1.5x and ≥ 1ms)\n")
        w.write("Node\tIP\tPath\tProto\tVerdict\tp50 before\tp50 now\tp\tSamples\n")
        for s in r.series {
            let t = s.target, v = s.trend
            let p = v.pValue.map { String(format: "%.3g", $0) } ?? "-"
            w.write("  \(t.shortNode)\t\(t.ip)\t\(t.path)\t\(t.protocol)\t\(v.verdict.rawValue)\t\(rtt(v.previousP50))\t"
                    + "\(rtt(v.recentP50))\t\(p)\t\(v.previousSamples)/\(v.recentSamples)\n")
        }
        return w.flush()
    }

    /// Go duration text rounded to microseconds ("1.234ms"); "-" when there is no value.
    static func rtt(_ ns: Int64?) -> String {
        guard let ns else { return "-" }
        return goDurationString(nanoseconds: ns >= 1000 ? ns / 1000 * 1000 : ns)
    }

    public static let csvHeader = "node,ip,path,family,protocol,window_start,samples,failures,loss_percent,min_ms,p10_ms,p50_ms,p90_ms,p99_ms,max_ms"

    public static func csv(_ r: HistoryResponse) -> String {
        var out = csvHeader + "\n"
        for s in r.series {
            let t = s.target
            for win in s.windows {
                let fields = [t.node, t.ip, t.path, t.family, t.protocol, win.start, "\(win.samples)", "\(win.failures)",
                              String(format: "%.2f", win.lossPercent)]
                    + [win.min, win.p10, win.p50, win.p90, win.p99, win.max].map { $0.map { String(format: "%.3f", Double($0) / 1e6) } ?? "" }
                out += fields.map(csvField).joined(separator: ",") + "\n"
            }
        }
        return out
    }

    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
