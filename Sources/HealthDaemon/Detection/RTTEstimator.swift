/// A path's smoothed RTT and the probe timeout learnt from it (RFC 6298's retransmission timer:
/// SRTT + 4·RTTVAR, clamped), so a dead path is declared after a few RTTs instead of upstream's
/// flat 10 s, while a slow or jittery path keeps a timeout above its own spread.
public struct RTTEstimator: Sendable, Equatable {
    public static let initialTimeout: Duration = .seconds(1)
    /// Below this, a busy prober or a scheduler hiccup would turn into false timeouts.
    public static let minimumTimeout: Duration = .milliseconds(250)
    /// Upstream's probe deadline: never wait longer than it would.
    public static let maximumTimeout: Duration = .seconds(10)

    public private(set) var smoothed: Duration?
    public private(set) var variation: Duration = .zero

    public init() {}

    public mutating func observe(_ rtt: Duration) {
        guard let srtt = smoothed else {
            smoothed = rtt
            variation = rtt / 2
            return
        }
        let delta = srtt > rtt ? srtt - rtt : rtt - srtt
        variation = variation * 0.75 + delta * 0.25
        smoothed = srtt * 0.875 + rtt * 0.125
    }

    public var timeout: Duration {
        guard let srtt = smoothed else { return Self.initialTimeout }
        return min(max(srtt + variation * 4, Self.minimumTimeout), Self.maximumTimeout)
    }
}
