/// When each probe of a round starts: evenly spaced across the interval, first one at once
/// (upstream's token bucket: one token per interval/ipCount, burst 1), so a node never bursts
/// its whole target list at the network.
public enum LaunchSchedule {
    public static func offsets(count: Int, across interval: Duration) -> [Duration] {
        guard count > 0 else { return [] }
        return (0..<count).map { interval * (Double($0) / Double(count)) }
    }
}

extension LaunchSchedule {
    /// How a round that should finish at once (the first one, `status --probe`) is spread: 5 ms
    /// between launches, 1 s at most. Probes launched in the same instant compete for the CPU
    /// (the local responder answers the node's own probes in-process) and that shows up as latency.
    public static func quickSpread(count: Int) -> Duration {
        min(.milliseconds(5) * count, .seconds(1))
    }
}
