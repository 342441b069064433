import Foundation
import HealthAPI

/// What `cilium-health history` asks for: a range back from now, split into windows of `step`.
public struct HistoryQuery: Sendable, Equatable {
    public var since: Duration
    /// nil: the coarsest of `steps` that still gives at most `defaultWindows` windows.
    public var step: Duration?
    /// Width of the recent and the previous window the trend compares; nil: the step.
    public var trendWindow: Duration?
    /// A node's full name (`cluster/node`) or its name within the cluster.
    public var node: String?
    public var path: String?
    public var `protocol`: String?
    public var family: String?

    public init(since: Duration = .seconds(3600), step: Duration? = nil, trendWindow: Duration? = nil, node: String? = nil,
                path: String? = nil, protocol: String? = nil, family: String? = nil) {
        self.since = since
        self.step = step
        self.trendWindow = trendWindow
        self.node = node
        self.path = path
        self.protocol = `protocol`
        self.family = family
    }

    public static let paths = ["host", "endpoint"]
    public static let protocols = ["icmp", "http"]
    public static let families = ["ipv4", "ipv6"]
    /// Steps an automatic choice picks from (windows align to multiples of the step since 1970).
    public static let steps: [Int64] = [10, 30, 60, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400, 604_800]
    public static let defaultWindows = 12
    /// A bound on the work of one query.
    public static let maxWindows = 20_000

    public static func automaticStep(since: Duration, windows: Int = defaultWindows) -> Duration {
        let seconds = Double(since.milliseconds) / 1000
        let step = steps.first { seconds / Double($0) <= Double(windows) } ?? steps[steps.count - 1]
        return .seconds(step)
    }

    public var effectiveStep: Duration { step ?? Self.automaticStep(since: since) }
    public var effectiveTrendWindow: Duration { trendWindow ?? effectiveStep }

    /// Every value checked, each error naming the option and what it accepts.
    public func validate() throws {
        func check(_ value: String?, _ allowed: [String], _ name: String) throws {
            if let value, !allowed.contains(value) {
                throw HistoryError("invalid \(name) '\(value)': use \(allowed.joined(separator: " or "))", kind: .badRequest)
            }
        }
        try check(path, Self.paths, "--path")
        try check(`protocol`, Self.protocols, "--protocol")
        try check(family, Self.families, "--family")
        guard since >= .seconds(1) else { throw HistoryError("--since must be at least 1s", kind: .badRequest) }
        let step = effectiveStep
        guard step >= .seconds(1), step.milliseconds % 1000 == 0 else {
            throw HistoryError("--step must be a whole number of seconds, at least 1s", kind: .badRequest)
        }
        guard since.milliseconds / step.milliseconds < Int64(Self.maxWindows) else {
            throw HistoryError("--since \(Self.text(since)) at --step \(Self.text(step)) is more than \(Self.maxWindows) windows: use a larger --step", kind: .badRequest)
        }
        guard effectiveTrendWindow >= .seconds(1) else {
            throw HistoryError("--trend-window must be at least 1s", kind: .badRequest)
        }
    }

    /// Durations as the options take them: `90s`, `2h`, `7d`.
    public static func text(_ d: Duration) -> String {
        let s = d.milliseconds / 1000
        if s % 86400 == 0 { return "\(s / 86400)d" }
        if s % 3600 == 0 { return "\(s / 3600)h" }
        if s % 60 == 0 { return "\(s / 60)m" }
        return "\(s)s"
    }

    // MARK: URL form (the health API's query string)

    public var queryItems: [(String, String)] {
        var items = [("since", Self.text(since))]
        if let step { items.append(("step", Self.text(step))) }
        if let trendWindow { items.append(("trend-window", Self.text(trendWindow))) }
        if let node { items.append(("node", node)) }
        if let path { items.append(("path", path)) }
        if let `protocol` { items.append(("protocol", `protocol`)) }
        if let family { items.append(("family", family)) }
        return items
    }

    /// `/v1beta/history?...`, percent-encoded.
    public var requestPath: String {
        var c = URLComponents()
        c.path = "/v1beta/history"
        c.queryItems = queryItems.map { URLQueryItem(name: $0.0, value: $0.1) }
        return c.string ?? "/v1beta/history"
    }

    /// Reads the query string the CLI sent; unknown keys and bad values are errors, not ignored.
    public init(parameters: [String: String]) throws {
        self.init()
        for (key, value) in parameters {
            switch key {
            case "since": since = try Self.duration(value, "--since")
            case "step": step = try Self.duration(value, "--step")
            case "trend-window": trendWindow = try Self.duration(value, "--trend-window")
            case "node": node = value
            case "path": path = value
            case "protocol": self.protocol = value
            case "family": family = value
            default: throw HistoryError("unknown history parameter '\(key)'", kind: .badRequest)
            }
        }
        try validate()
    }

    public static func duration(_ text: String, _ flag: String) throws -> Duration {
        guard let d = GoDuration.parse(text, days: true) else {
            throw HistoryError("invalid \(flag) '\(text)': use a duration such as 30s, 15m, 6h or 7d", kind: .badRequest)
        }
        return d
    }
}

extension HistoryStore {
    /// The query's windows and trends, from raw samples where they are still kept and from
    /// rollups before that (the step picks hour rollups when it is whole hours, else minutes).
    public func history(_ query: HistoryQuery, source: String, now: Date) async throws -> HistoryResponse {
        try query.validate()
        let nowMs = Self.milliseconds(now)
        let stepMs = query.effectiveStep.milliseconds
        let trendMs = query.effectiveTrendWindow.milliseconds
        let first = (nowMs - query.since.milliseconds) / stepMs * stepMs
        let windowCount = Int((nowMs - first) / stepMs) + 1
        let rawCutoff = nowMs - retention.raw.milliseconds

        let all = try await targets()
        var chosen = all.filter { _, t in
            (query.path == nil || t.path == query.path) && (query.protocol == nil || t.protocol == query.protocol)
                && (query.family == nil || t.family == query.family)
        }
        if let node = query.node {
            let matching = chosen.filter { $0.value.node == node || $0.value.node.hasSuffix("/" + node) }
            if matching.isEmpty {
                let known = Set(all.values.map(\.node)).sorted()
                throw HistoryError("unknown node '\(node)': " + (known.isEmpty ? "the history is empty so far"
                                    : "the history has \(known.joined(separator: ", "))"), kind: .notFound)
            }
            chosen = matching
        }
        let ids = Set(chosen.keys)

        var windows: [Int64: [WindowAccumulator]] = [:]
        func window(_ id: Int64, _ t: Int64) -> Int? {
            let i = Int((t - first) / stepMs)
            return t >= first && i < windowCount ? i : nil
        }
        var rawFrom = first
        if first < rawCutoff {
            guard stepMs % RollupLevel.minute.rawValue == 0 else {
                throw HistoryError("--step \(HistoryQuery.text(query.effectiveStep)) is not whole minutes, so it reads raw samples, which are kept for \(HistoryQuery.text(retention.raw)): use --since \(HistoryQuery.text(retention.raw)) or less, or a --step of whole minutes", kind: .badRequest)
            }
            let level: RollupLevel = stepMs % RollupLevel.hour.rawValue == 0 ? .hour : .minute
            let mark = try await watermark(level) ?? first
            for (id, rows) in try await rollups(level, from: first, to: mark, targets: ids) {
                for (t, row) in rows {
                    guard let i = window(id, t) else { continue }
                    windows[id, default: Array(repeating: WindowAccumulator(), count: windowCount)][i].add(rollup: row)
                }
            }
            rawFrom = max(first, mark)
        }
        let trendFrom = nowMs - 2 * trendMs
        let trendRaw = trendFrom >= rawCutoff
        let raw = try await rawSamples(from: min(rawFrom, trendRaw ? trendFrom : rawFrom), to: nowMs + 1, targets: ids)
        for (id, samples) in raw {
            for s in samples where s.t >= rawFrom {
                guard let i = window(id, s.t) else { continue }
                windows[id, default: Array(repeating: WindowAccumulator(), count: windowCount)][i].add(rtt: s.rtt)
            }
        }
        // The trend compares RTTs: raw ones while kept, else per-minute medians (Medratio's input).
        var trendValues: [Int64: (previous: [Int64], recent: [Int64])] = [:]
        if trendRaw {
            for (id, samples) in raw {
                for s in samples where s.t >= trendFrom {
                    guard let rtt = s.rtt else { continue }
                    if s.t >= nowMs - trendMs { trendValues[id, default: ([], [])].recent.append(rtt) }
                    else { trendValues[id, default: ([], [])].previous.append(rtt) }
                }
            }
        } else {
            // Hour medians once the windows are long enough to hold the test's minimum of them.
            let level: RollupLevel = trendMs >= 6 * RollupLevel.hour.rawValue ? .hour : .minute
            for (id, rows) in try await rollups(level, from: trendFrom, to: nowMs + 1, targets: ids) {
                for (t, row) in rows {
                    guard let p50 = row.p50 else { continue }
                    if t >= nowMs - trendMs { trendValues[id, default: ([], [])].recent.append(p50) }
                    else { trendValues[id, default: ([], [])].previous.append(p50) }
                }
            }
        }

        let rule = TrendRule()
        let starts = (0..<windowCount).map { RFC3339.string(Self.date(first + Int64($0) * stepMs)) }
        let series = windows.compactMap { id, accs -> HistorySeries? in
            guard let target = chosen[id] else { return nil }
            let list = accs.enumerated().map { i, a in
                let q = a.quantiles
                return HistoryWindow(start: starts[i], samples: a.count, failures: a.failures,
                                     min: a.min, p10: q.p10, p50: q.p50, p90: q.p90, p99: q.p99, max: a.max)
            }
            let values = trendValues[id] ?? ([], [])
            return HistorySeries(target: target, windows: list, trend: rule.verdict(previous: values.previous, recent: values.recent))
        }.sorted { $0.target < $1.target }
        return HistoryResponse(source: source, since: RFC3339.string(Self.date(first)), until: RFC3339.string(now),
                               stepSeconds: stepMs / 1000, trendWindowSeconds: trendMs / 1000, series: series)
    }
}

/// One target over a recent stretch, for the metrics' loss and worst-pairs gauges.
public struct RecentSummary: Sendable, Equatable {
    public var target: HistoryTarget
    public var samples: Int
    public var failures: Int
    public var p50: Int64?

    public init(target: HistoryTarget, samples: Int, failures: Int, p50: Int64?) {
        self.target = target
        self.samples = samples
        self.failures = failures
        self.p50 = p50
    }
}

extension HistoryStore {
    /// Every target's raw samples in the last `window`.
    public func recent(_ window: Duration, now: Date) async throws -> [RecentSummary] {
        let nowMs = Self.milliseconds(now)
        let all = try await targets()
        return try await rawSamples(from: nowMs - window.milliseconds, to: nowMs + 1, targets: Set(all.keys))
            .compactMap { id, samples -> RecentSummary? in
                guard let target = all[id] else { return nil }
                var acc = WindowAccumulator()
                samples.forEach { acc.add(rtt: $0.rtt) }
                return RecentSummary(target: target, samples: acc.count, failures: acc.failures, p50: acc.p50)
            }.sorted { $0.target < $1.target }
    }
}
