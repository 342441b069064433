/// The prober measuring itself over the last minute: how late its timers fire (a starved prober —
/// CPU limits, a busy core — shows here, not as network latency) and how many bursts it sends.
/// Bounded memory: at most `capacity` delay samples and one counter per second.
public struct ProberSelfMeasure: Sendable {
    public static let span: Duration = .seconds(60)
    static let capacity = 1024

    private var delays: [(at: Duration, delay: Duration)] = []
    private var next = 0
    private var perSecond = [Int](repeating: 0, count: 60)
    private var perSecondStamp = [Int64](repeating: -1, count: 60)

    public init() {}

    /// A timer meant for `intended` fired at `now`.
    public mutating func timerFired(intended: Duration, now: Duration) {
        let sample = (at: now, delay: max(.zero, now - intended))
        if delays.count < Self.capacity { delays.append(sample) } else { delays[next] = sample }
        next = (next + 1) % Self.capacity
    }

    public mutating func burstSent(now: Duration) {
        let second = now.components.seconds
        let slot = Int(second % 60)
        if perSecondStamp[slot] != second {
            perSecondStamp[slot] = second
            perSecond[slot] = 0
        }
        perSecond[slot] += 1
    }

    /// Quantile `q` in [0, 1] of the delays seen within `span` of `now`.
    public func delay(quantile q: Double, now: Duration) -> Duration {
        let recent = delays.filter { now - $0.at <= Self.span }.map(\.delay).sorted()
        guard !recent.isEmpty else { return .zero }
        return recent[min(recent.count - 1, Int((Double(recent.count - 1) * q).rounded(.up)))]
    }

    /// Bursts per second over the last minute (or since `origin` if that is shorter).
    public func burstRate(now: Duration) -> Double {
        let second = now.components.seconds
        let total = (0..<60).reduce(0) { sum, slot in
            second - perSecondStamp[slot] < 60 && perSecondStamp[slot] >= 0 ? sum + perSecond[slot] : sum
        }
        return Double(total) / Double(max(1, min(60, second + 1)))
    }
}
