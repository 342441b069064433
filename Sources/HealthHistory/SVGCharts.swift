import Foundation
import HealthAPI

/// Smokeping-style RTT charts: per series a panel with the p10-p90 band ("smoke"), the median
/// line, and loss marked under it (red bars, darker for more loss; a full-height hatch where
/// every sample failed). Plain SVG 1.1 that browsers and rsvg-convert open.
public enum RTTChart {
    static let width = 900.0, panelHeight = 150.0, left = 70.0, right = 20.0, top = 34.0, gap = 46.0, header = 40.0

    public static func svg(_ r: HistoryResponse) -> String {
        let plotWidth = width - left - right
        let height = header + Double(max(1, r.series.count)) * (panelHeight + gap)
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="\(left)" y="22" font-size="14" font-weight="bold">\(XMLText.escape("RTT from \(r.source), \(r.since) to \(r.until), step \(HistoryQuery.text(.seconds(r.stepSeconds)))"))</text>

            """
        if r.series.isEmpty {
            out += "<text x=\"\(left)\" y=\"\(header + 30)\">no samples in this range</text>\n"
        }
        for (index, s) in r.series.enumerated() {
            let y0 = header + Double(index) * (panelHeight + gap) + top
            out += panel(s, y0: y0, plotWidth: plotWidth)
        }
        return out + "</svg>\n"
    }

    static func panel(_ s: HistorySeries, y0: Double, plotWidth: Double) -> String {
        let t = s.target, n = s.windows.count
        let ceiling = niceCeiling(s.windows.compactMap { $0.p90 ?? $0.p50 }.max() ?? 1_000_000)
        func x(_ i: Int) -> Double { left + (Double(i) + 0.5) / Double(max(1, n)) * plotWidth }
        func y(_ ns: Int64) -> Double { y0 + panelHeight - min(1, Double(ns) / Double(ceiling)) * panelHeight }
        let slot = plotWidth / Double(max(1, n))
        let samples = s.windows.reduce(0) { $0 + $1.samples }, failures = s.windows.reduce(0) { $0 + $1.failures }
        let loss = samples == 0 ? 0 : Double(failures) * 100 / Double(samples)
        var out = "<g class=\"series\" data-node=\"\(XMLText.escape(t.node))\" data-ip=\"\(XMLText.escape(t.ip))\" "
            + "data-path=\"\(t.path)\" data-protocol=\"\(t.protocol)\" data-family=\"\(t.family)\">\n"
        let title = "\(t.shortNode) \(t.ip) \(t.path) \(t.protocol): \(samples) samples, loss \(String(format: "%.1f", loss))%, trend \(s.trend.verdict.rawValue)"
        out += "<text x=\"\(left)\" y=\"\(fmt(y0 - 8))\" font-size=\"12\" font-weight=\"bold\">\(XMLText.escape(title))</text>\n"
        out += "<rect x=\"\(left)\" y=\"\(fmt(y0))\" width=\"\(fmt(plotWidth))\" height=\"\(panelHeight)\" fill=\"#f8f8f8\" stroke=\"#999\"/>\n"
        for k in 0...4 {
            let v = ceiling / 4 * Int64(k), yy = y(v)
            out += "<line x1=\"\(left)\" y1=\"\(fmt(yy))\" x2=\"\(fmt(left + plotWidth))\" y2=\"\(fmt(yy))\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(left - 6)\" y=\"\(fmt(yy + 4))\" text-anchor=\"end\">\(XMLText.escape(HistoryFormatter.rtt(v)))</text>\n"
        }
        for (i, label) in axisLabels(s.windows) {
            out += "<text x=\"\(fmt(x(i)))\" y=\"\(fmt(y0 + panelHeight + 14))\" text-anchor=\"middle\">\(label)</text>\n"
        }
        // Smoke band and median, one run per stretch of windows that have successes.
        for run in runs(s.windows) {
            let upper = run.map { "\(fmt(x($0))),\(fmt(y(s.windows[$0].p90 ?? 0)))" }
            let lower = run.reversed().map { "\(fmt(x($0))),\(fmt(y(s.windows[$0].p10 ?? 0)))" }
            out += "<polygon class=\"band\" points=\"\((upper + lower).joined(separator: " "))\" fill=\"#9ab8d8\" fill-opacity=\"0.6\"/>\n"
            let median = run.map { "\(fmt(x($0))),\(fmt(y(s.windows[$0].p50 ?? 0)))" }
            out += "<polyline class=\"median\" points=\"\(median.joined(separator: " "))\" fill=\"none\" stroke=\"#1a4f8a\" stroke-width=\"1.8\"/>\n"
            for i in run where run.count == 1 {
                out += "<circle class=\"median\" cx=\"\(fmt(x(i)))\" cy=\"\(fmt(y(s.windows[i].p50 ?? 0)))\" r=\"2.5\" fill=\"#1a4f8a\"/>\n"
            }
        }
        for (i, w) in s.windows.enumerated() where w.failures > 0 {
            let lossFraction = Double(w.failures) / Double(w.samples)
            if w.failures == w.samples {
                out += "<rect class=\"unreachable\" x=\"\(fmt(x(i) - slot / 2))\" y=\"\(fmt(y0))\" width=\"\(fmt(slot))\" height=\"\(panelHeight)\" fill=\"#d62728\" fill-opacity=\"0.25\"><title>\(w.start): every sample failed</title></rect>\n"
            }
            out += "<rect class=\"loss\" x=\"\(fmt(x(i) - slot / 2))\" y=\"\(fmt(y0 + panelHeight - 8))\" width=\"\(fmt(slot))\" height=\"8\" fill=\"#d62728\" fill-opacity=\"\(fmt(0.3 + 0.7 * lossFraction))\"><title>\(w.start): loss \(String(format: "%.1f", w.lossPercent))%</title></rect>\n"
        }
        return out + "</g>\n"
    }

    /// Index runs of consecutive windows with a median.
    static func runs(_ windows: [HistoryWindow]) -> [[Int]] {
        var out: [[Int]] = [], current: [Int] = []
        for (i, w) in windows.enumerated() {
            if w.p50 != nil { current.append(i) } else if !current.isEmpty { out.append(current); current = [] }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// About six time labels (HH:MM UTC; the date when the range spans days).
    static func axisLabels(_ windows: [HistoryWindow]) -> [(Int, String)] {
        guard !windows.isEmpty else { return [] }
        let every = max(1, windows.count / 6)
        let multiDay = windows.first?.start.prefix(10) != windows.last?.start.prefix(10)
        return stride(from: 0, to: windows.count, by: every).map { i in
            let s = windows[i].start  // 2026-01-02T03:04:05Z
            let time = String(s.dropFirst(11).prefix(multiDay ? 5 : 8))
            return (i, multiDay ? "\(s.dropFirst(5).prefix(5)) \(time)" : time)
        }
    }

    /// The next of 1, 2, 5 × 10^k nanoseconds at or above `ns`.
    static func niceCeiling(_ ns: Int64) -> Int64 {
        var scale: Int64 = 1000
        while true {
            for m: Int64 in [1, 2, 5] where m * scale >= ns { return m * scale }
            scale *= 10
        }
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// Goldpinger's node × node heatmap: row = source, column = target, colour by latency at the
/// 1/10/100 ms thresholds; unreachable pairs are black with a cross, unknown ones grey.
public enum Heatmap {
    public enum Cell: Sendable, Equatable {
        case latency(Int64)
        case unreachable(String)
        case unknown
    }

    /// Cell class names (also the legend); the test reads them back.
    public static func classify(_ cell: Cell) -> String {
        switch cell {
        case .unknown: return "unknown"
        case .unreachable: return "unreachable"
        case .latency(let ns):
            if ns < 1_000_000 { return "lt1ms" }
            if ns < 10_000_000 { return "lt10ms" }
            if ns < 100_000_000 { return "lt100ms" }
            return "ge100ms"
        }
    }

    static let colours = ["lt1ms": "#2ca02c", "lt10ms": "#bcbd22", "lt100ms": "#ff7f0e", "ge100ms": "#d62728",
                          "unreachable": "#000000", "unknown": "#bbbbbb"]

    /// `cells[source][target]`; rows and columns in `nodes` order.
    public static func svg(nodes: [String], cells: [String: [String: Cell]], title: String) -> String {
        let cell = 56.0, labelWidth = 150.0, top = 150.0
        let n = Double(nodes.count)
        // Wide enough for the title too (bold 14 px sans runs about 8.5 px a character).
        let width = max(640, labelWidth + n * cell + 200, 20 + Double(title.count) * 8.5), height = max(top + n * cell + 40, top + 6 * 20 + 20)
        func short(_ s: String) -> String { s.split(separator: "/").last.map(String.init) ?? s }
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="10" y="20" font-size="14" font-weight="bold">\(XMLText.escape(title))</text>
            <text x="10" y="\(Int(top - 8))">from \\ to</text>

            """
        for (j, target) in nodes.enumerated() {
            let x = labelWidth + (Double(j) + 0.5) * cell
            out += "<text x=\"\(RTTChart.fmt(x))\" y=\"\(Int(top - 8))\" transform=\"rotate(-45 \(RTTChart.fmt(x)) \(Int(top - 8)))\">\(XMLText.escape(short(target)))</text>\n"
        }
        for (i, source) in nodes.enumerated() {
            let y = top + Double(i) * cell
            out += "<text x=\"10\" y=\"\(RTTChart.fmt(y + cell / 2 + 4))\">\(XMLText.escape(short(source)))</text>\n"
            for (j, target) in nodes.enumerated() {
                let value = cells[source]?[target] ?? .unknown
                let kind = classify(value), x = labelWidth + Double(j) * cell
                let label: String, tip: String
                switch value {
                case .latency(let ns): label = HistoryFormatter.rtt(ns); tip = label
                case .unreachable(let why): label = "✕"; tip = "unreachable: \(why)"
                case .unknown: label = "?"; tip = "not probed yet"
                }
                out += "<g class=\"cell \(kind)\" data-source=\"\(XMLText.escape(source))\" data-target=\"\(XMLText.escape(target))\">"
                out += "<rect x=\"\(RTTChart.fmt(x))\" y=\"\(RTTChart.fmt(y))\" width=\"\(cell - 2)\" height=\"\(cell - 2)\" fill=\"\(colours[kind] ?? "#bbbbbb")\">"
                out += "<title>\(XMLText.escape("\(short(source)) → \(short(target)): \(tip)"))</title></rect>"
                let textColour = kind == "unreachable" ? "#ffffff" : "#000000"
                out += "<text x=\"\(RTTChart.fmt(x + cell / 2 - 1))\" y=\"\(RTTChart.fmt(y + cell / 2 + 3))\" text-anchor=\"middle\" font-size=\"9\" fill=\"\(textColour)\">\(XMLText.escape(label))</text></g>\n"
            }
        }
        let legend: [(String, String)] = [("lt1ms", "< 1 ms"), ("lt10ms", "< 10 ms"), ("lt100ms", "< 100 ms"), ("ge100ms", "≥ 100 ms"),
                                          ("unreachable", "unreachable"), ("unknown", "unknown")]
        let lx = labelWidth + n * cell + 20
        for (k, (kind, text)) in legend.enumerated() {
            let ly = top + Double(k) * 20
            out += "<rect x=\"\(RTTChart.fmt(lx))\" y=\"\(RTTChart.fmt(ly))\" width=\"14\" height=\"14\" fill=\"\(colours[kind] ?? "")\"/>"
            out += "<text x=\"\(RTTChart.fmt(lx + 20))\" y=\"\(RTTChart.fmt(ly + 11))\">\(XMLText.escape(text))</text>\n"
        }
        return out + "</svg>\n"
    }
}

extension Heatmap {
    /// The grid from each node's own `status`: the latest ICMP RTT of the target's host primary
    /// path, unreachable when `status` calls that path unreachable (the text says why).
    public static func cells(from statuses: [String: HealthStatusResponse]) -> (nodes: [String], cells: [String: [String: Cell]]) {
        var nodes = Set<String>()
        var grid: [String: [String: Cell]] = [:]
        for (source, status) in statuses {
            nodes.insert(source)
            for node in status.nodes {
                nodes.insert(node.name)
                grid[source, default: [:]][node.name] = cell(node.host?.primaryAddress)
            }
        }
        return (nodes.sorted(), grid)
    }

    public static func cell(_ path: PathStatus?) -> Cell {
        guard let path else { return .unknown }
        switch ConnectivityReachability.of(path) {
        case .unreachable:
            let why = [path.icmp, path.http].compactMap { $0?.status }.first { !$0.isEmpty } ?? "no result"
            return .unreachable(why)
        case .unknown: return .unknown
        case .reachable:
            guard let icmp = path.icmp, icmp.status.isEmpty else { return .unknown }
            return .latency(icmp.latency)
        }
    }
}
