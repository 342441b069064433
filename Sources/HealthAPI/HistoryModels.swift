/// Wire models of the history API (`GET /v1beta/history`), our addition beside upstream's.
/// Latencies are integer nanoseconds, as in upstream's ConnectivityStatus; times are RFC 3339.

/// `GET /v1beta/history` answer: one series per probed address and protocol.
public struct HistoryResponse: Codable, Sendable, Equatable {
    /// The local node (`cluster/node`), the source of every probe.
    public var source: String
    public var since: String
    public var until: String
    /// Window width in seconds.
    public var stepSeconds: Int64
    /// Width of each of the two windows the trend compares, in seconds.
    public var trendWindowSeconds: Int64
    public var series: [HistorySeries]

    public init(source: String, since: String, until: String, stepSeconds: Int64, trendWindowSeconds: Int64,
                series: [HistorySeries]) {
        self.source = source
        self.since = since
        self.until = until
        self.stepSeconds = stepSeconds
        self.trendWindowSeconds = trendWindowSeconds
        self.series = series
    }

    enum CodingKeys: String, CodingKey {
        case source, since, until, series
        case stepSeconds = "step-seconds"
        case trendWindowSeconds = "trend-window-seconds"
    }
}

/// What one series is about: the probed address of a target node, and how it was probed.
public struct HistoryTarget: Codable, Sendable, Hashable, Comparable {
    public var node: String
    public var ip: String
    /// `host` or `endpoint` (the node's health endpoint).
    public var path: String
    /// `ipv4` or `ipv6`.
    public var family: String
    /// `icmp` or `http`.
    public var `protocol`: String

    public init(node: String, ip: String, path: String, family: String, protocol: String) {
        self.node = node
        self.ip = ip
        self.path = path
        self.family = family
        self.protocol = `protocol`
    }

    /// Node name order (as `status` lists nodes), host before endpoint, then address and protocol.
    public static func < (a: HistoryTarget, b: HistoryTarget) -> Bool {
        (a.node, a.path, a.ip, a.protocol) < (b.node, b.path, b.ip, b.protocol)
    }

    /// `cluster/node` shortened to the node, for labels.
    public var shortNode: String { node.split(separator: "/").last.map(String.init) ?? node }
}

public struct HistorySeries: Codable, Sendable, Equatable {
    public var target: HistoryTarget
    public var windows: [HistoryWindow]
    public var trend: TrendVerdict

    public init(target: HistoryTarget, windows: [HistoryWindow], trend: TrendVerdict) {
        self.target = target
        self.windows = windows
        self.trend = trend
    }
}

/// One window of one series. Quantiles are over the successful samples; nil when there were none.
public struct HistoryWindow: Codable, Sendable, Equatable {
    public var start: String
    public var samples: Int
    public var failures: Int
    public var min: Int64?
    public var p10: Int64?
    public var p50: Int64?
    public var p90: Int64?
    public var p99: Int64?
    public var max: Int64?

    public init(start: String, samples: Int, failures: Int, min: Int64? = nil, p10: Int64? = nil, p50: Int64? = nil,
                p90: Int64? = nil, p99: Int64? = nil, max: Int64? = nil) {
        self.start = start
        self.samples = samples
        self.failures = failures
        self.min = min
        self.p10 = p10
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.max = max
    }

    /// Failures per sample, in percent (0 for an empty window).
    public var lossPercent: Double { samples == 0 ? 0 : Double(failures) * 100 / Double(samples) }
}

/// Recent window against the one before it: Mann-Whitney U on the RTTs plus a size threshold.
public struct TrendVerdict: Codable, Sendable, Equatable {
    public enum Verdict: String, Codable, Sendable {
        case slower, faster, steady
        /// Fewer successful samples than the test needs on either side.
        case insufficient = "insufficient-data"
    }

    public var verdict: Verdict
    public var previousSamples: Int
    public var recentSamples: Int
    public var previousP50: Int64?
    public var recentP50: Int64?
    /// Two-sided p-value of the Mann-Whitney U test (nil when not run).
    public var pValue: Double?

    public init(verdict: Verdict, previousSamples: Int, recentSamples: Int, previousP50: Int64? = nil,
                recentP50: Int64? = nil, pValue: Double? = nil) {
        self.verdict = verdict
        self.previousSamples = previousSamples
        self.recentSamples = recentSamples
        self.previousP50 = previousP50
        self.recentP50 = recentP50
        self.pValue = pValue
    }

    enum CodingKeys: String, CodingKey {
        case verdict
        case previousSamples = "previous-samples"
        case recentSamples = "recent-samples"
        case previousP50 = "previous-p50"
        case recentP50 = "recent-p50"
        case pValue = "p-value"
    }
}
