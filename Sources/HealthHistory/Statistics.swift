import Foundation
import HealthAPI

/// Nearest-rank quantiles over weighted points. A raw sample is a point of weight 1 (so the
/// result is the exact nearest-rank quantile); a rollup is a point weighted by its successes
/// carrying its own quantiles, so a window made of rollups gets the weighted quantile of their
/// quantiles (exact for one rollup, Smokeping's median-of-medians idea for several).
struct QuantilePoint {
    var weight: Int
    var p10: Int64
    var p50: Int64
    var p90: Int64
    var p99: Int64

    init(rtt: Int64) {
        weight = 1
        p10 = rtt
        p50 = rtt
        p90 = rtt
        p99 = rtt
    }

    init(weight: Int, p10: Int64, p50: Int64, p90: Int64, p99: Int64) {
        self.weight = weight
        self.p10 = p10
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
    }
}

/// Count, failures, extremes and quantile points of one window (or one rollup being built).
struct WindowAccumulator {
    var count = 0
    var failures = 0
    var min: Int64?
    var max: Int64?
    var points: [QuantilePoint] = []

    mutating func add(rtt: Int64?) {
        count += 1
        guard let rtt else {
            failures += 1
            return
        }
        min = Swift.min(min ?? rtt, rtt)
        max = Swift.max(max ?? rtt, rtt)
        points.append(QuantilePoint(rtt: rtt))
    }

    mutating func add(rollup r: RollupRow) {
        count += r.count
        failures += r.failures
        guard let rmin = r.min, let rmax = r.max, let p10 = r.p10, let p50 = r.p50, let p90 = r.p90, let p99 = r.p99 else { return }
        min = Swift.min(min ?? rmin, rmin)
        max = Swift.max(max ?? rmax, rmax)
        points.append(QuantilePoint(weight: r.count - r.failures, p10: p10, p50: p50, p90: p90, p99: p99))
    }

    /// Raw samples only (every point of weight 1): one sorted list serves every quantile.
    private var rawOnly: Bool { points.allSatisfy { $0.weight == 1 && $0.p10 == $0.p99 } }

    /// p10, p50, p90, p99 at once.
    var quantiles: (p10: Int64?, p50: Int64?, p90: Int64?, p99: Int64?) {
        guard !points.isEmpty else { return (nil, nil, nil, nil) }
        if rawOnly {
            let sorted = points.map(\.p50).sorted()
            func at(_ q: Double) -> Int64 { sorted[Swift.max(1, Int((q * Double(sorted.count)).rounded(.up))) - 1] }
            return (at(0.10), at(0.50), at(0.90), at(0.99))
        }
        return (quantile(0.10) { $0.p10 }, quantile(0.50) { $0.p50 }, quantile(0.90) { $0.p90 }, quantile(0.99) { $0.p99 })
    }

    /// Weighted nearest rank over (value, weight) pairs (closures, not key paths: this is the hot loop).
    func quantile(_ q: Double, _ value: (QuantilePoint) -> Int64) -> Int64? {
        var pairs = points.map { (value($0), $0.weight) }
        let total = pairs.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return nil }
        pairs.sort { $0.0 < $1.0 }
        let rank = Swift.max(1, Int((q * Double(total)).rounded(.up)))
        var seen = 0
        for (v, w) in pairs {
            seen += w
            if seen >= rank { return v }
        }
        return pairs.last?.0
    }

    var p50: Int64? { quantiles.p50 }
}

/// Two-sided Mann-Whitney U test (normal approximation with tie and continuity correction), as
/// benchstat uses to tell a real change from noise.
enum MannWhitney {
    /// The p-value for "a and b come from the same distribution"; nil if either side is empty.
    static func pValue(_ a: [Int64], _ b: [Int64]) -> Double? {
        let n1 = Double(a.count), n2 = Double(b.count)
        guard n1 > 0, n2 > 0 else { return nil }
        let all = (a.map { ($0, 0) } + b.map { ($0, 1) }).sorted { $0.0 < $1.0 }
        var rankSumA = 0.0
        var tieTerm = 0.0
        var i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count, all[j + 1].0 == all[i].0 { j += 1 }
            let rank = Double(i + j + 2) / 2  // mean of ranks i+1 ... j+1
            let ties = Double(j - i + 1)
            if ties > 1 { tieTerm += ties * ties * ties - ties }
            for k in i...j where all[k].1 == 0 { rankSumA += rank }
            i = j + 1
        }
        let u = rankSumA - n1 * (n1 + 1) / 2
        let mean = n1 * n2 / 2
        let n = n1 + n2
        let variance = n1 * n2 / 12 * ((n + 1) - tieTerm / (n * (n - 1)))
        guard variance > 0 else { return 1 }  // every value equal
        let z = (abs(u - mean) - 0.5) / variance.squareRoot()
        return Swift.min(1, erfc(Swift.max(0, z) / 2.squareRoot()))
    }
}

/// Verdict rules: significant (Mann-Whitney p < `alpha`) and large enough to matter (Smokeping's
/// Medratio idea: the recent median over the previous one), so a noisy but unchanged path stays steady.
public struct TrendRule: Sendable {
    /// Successful samples each side needs (benchstat: 4 to detect a difference, 10-20 recommended).
    public var minimumSamples = 8
    public var alpha = 0.05
    /// Medians must differ by this factor...
    public var ratio = 1.5
    /// ...and by at least this much (nanoseconds), so a 50 µs path going to 80 µs is not "slower".
    public var minimumDelta: Int64 = 1_000_000

    public init() {}

    func verdict(previous: [Int64], recent: [Int64]) -> TrendVerdict {
        var prev = WindowAccumulator(), rec = WindowAccumulator()
        previous.forEach { prev.add(rtt: $0) }
        recent.forEach { rec.add(rtt: $0) }
        var out = TrendVerdict(verdict: .insufficient, previousSamples: previous.count, recentSamples: recent.count,
                               previousP50: prev.p50, recentP50: rec.p50)
        guard previous.count >= minimumSamples, recent.count >= minimumSamples,
              let before = prev.p50, let after = rec.p50, let p = MannWhitney.pValue(previous, recent) else { return out }
        out.pValue = p
        let big = abs(after - before) >= minimumDelta
        if p < alpha, big, Double(after) >= Double(before) * ratio {
            out.verdict = .slower
        } else if p < alpha, big, Double(after) * ratio <= Double(before) {
            out.verdict = .faster
        } else {
            out.verdict = .steady
        }
        return out
    }
}
