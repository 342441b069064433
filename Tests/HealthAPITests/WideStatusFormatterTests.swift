import HealthAPI
import Testing

/// `status -o wide`: upstream's table byte for byte, then our figures.
@Suite struct WideStatusFormatterTests {
    static let status = HealthStatusResponse(
        timestamp: "2026-12-01T10:00:00Z", probeInterval: "19.459101491s", local: SelfStatus(name: "c/node-1"),
        nodes: [NodeStatus(name: "c/node-1", host: AddressesStatus(primaryAddress: PathStatus(ip: "198.18.0.11")),
                           healthEndpoint: AddressesStatus(primaryAddress: PathStatus(ip: "198.19.1.2"))),
                NodeStatus(name: "c/node-2", host: AddressesStatus(primaryAddress: PathStatus(ip: "198.18.0.12")),
                           healthEndpoint: AddressesStatus(primaryAddress: PathStatus(ip: "198.19.2.2")))])

    @Test func upstreamTableFirstThenProberAndPaths() {
        let wide = WideStatusResponse(
            status: Self.status,
            prober: ProberSelfStatus(schedulingDelayP50: 191_400, schedulingDelayP99: 375_000, schedulingDelayMax: 2_023_000,
                                     probesPerSecond: 3.04, watched: ["c/node-2"], suspect: 0, down: []),
            paths: [PathStatisticsStatus(node: "c/node-2", ip: "198.18.0.12", type: "node", echoes: 160, replies: 114,
                                         lossPercent: 29.06, jitter: 11_298, rtt: 74_000, minRtt: 9_000, timeout: 250_000_000),
                    PathStatisticsStatus(node: "c/node-2", ip: "198.19.2.2", type: "endpoint", echoes: 0, replies: 0,
                                         lossPercent: 0, jitter: 0, rtt: 0, minRtt: 0, timeout: 1_000_000_000)])
        let text = WideStatusFormatter.format(wide)
        let upstream = HealthStatusFormatter.format(Self.status, verbose: false)
        #expect(text.hasPrefix(upstream))
        #expect(String(text.dropFirst(upstream.count)) == """

            Prober: scheduling delay p50 191µs, p99 375µs, max 2.023ms (last minute); 3.0 ICMP bursts/s; watching 1, suspect 0, down 0
            Name         IP            Loss    Jitter   RTT    Min RTT   Timeout   Echoes
              c/node-2   198.18.0.12   29.1%   11µs     74µs   9µs       250ms     114/160
              c/node-2   198.19.2.2    0.0%    0s       -      -         1s        0/0

            """)
    }
}
