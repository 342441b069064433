/// Loss and jitter of one path, kept in O(1) memory so thousands of targets stay cheap: loss is the
/// exact mean over the first `window` echoes, then an exponentially weighted mean with that
/// effective window; jitter is RFC 3550's estimator (J += (|D| − J)/16, D the difference between
/// consecutive echoes' RTTs within a burst).
public struct PathStatistics: Sendable, Equatable {
    public static let window = 128.0

    public private(set) var echoes = 0
    public private(set) var replies = 0
    /// Fraction of echoes lost, in [0, 1].
    public private(set) var loss = 0.0
    public private(set) var jitterNanoseconds = 0.0
    public private(set) var rtt = RTTEstimator()
    public private(set) var minimumRTT: Int64?

    public init() {}

    /// One burst's echoes in send order (nil: no reply in time).
    public mutating func observe(burst rtts: [Int64?]) {
        var previous: Int64?
        for sample in rtts {
            echoes += 1
            let weight = max(1 / Double(echoes), 1 / Self.window)
            loss += ((sample == nil ? 1 : 0) - loss) * weight
            guard let sample else { continue }
            replies += 1
            rtt.observe(.nanoseconds(sample))
            minimumRTT = min(minimumRTT ?? sample, sample)
            if let previous {
                jitterNanoseconds += (Double(abs(sample - previous)) - jitterNanoseconds) / 16
            }
            previous = sample
        }
    }
}
