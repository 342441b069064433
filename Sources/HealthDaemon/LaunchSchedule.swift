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
    /// How a round that should finish at once (the first one, `status --probe`, addresses that
    /// appear between rounds) is spread: 5 ms between launches, 1 s at most, but never less than
    /// `quickFloor` per address. Probes launched in the same instant compete for the CPU (the local
    /// responder answers the node's own probes in-process) and that shows up as latency; beyond
    /// ~2000 addresses a 1 s launch also outruns the CPU, and every probe left waiting holds its
    /// task and socket state (5000 addresses in 1 s took the prober from 37 MB to 77 MB).
    public static func quickSpread(count: Int) -> Duration {
        max(min(.milliseconds(5) * count, .seconds(1)), quickFloor * count)
    }

    /// 2000 probe pairs a second: about one core of a probe pair's CPU (ICMP burst and HTTP).
    public static let quickFloor: Duration = .microseconds(500)
}
