/// When each probe of a round starts: evenly spaced across the interval, first one at once
/// (upstream's token bucket: one token per interval/ipCount, burst 1), so a node never bursts
/// its whole target list at the network.
public enum LaunchSchedule {
    public static func offsets(count: Int, across interval: Duration) -> [Duration] {
        guard count > 0 else { return [] }
        return (0..<count).map { interval * (Double($0) / Double(count)) }
    }
}
