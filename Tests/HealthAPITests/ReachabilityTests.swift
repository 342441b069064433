import Testing
@testable import HealthAPI

struct ReachabilityTests {
    @Test func connectivityStatus() {
        #expect(ConnectivityReachability.of(nil as ConnectivityStatus?) == .unknown)
        #expect(ConnectivityReachability.of(Fixture.ok(1)) == .reachable)
        #expect(ConnectivityReachability.of(Fixture.failed("failed")) == .unreachable)
        #expect(ConnectivityReachability.unknown.description == "unknown")
    }

    /// Upstream TestGetPathConnectivityStatusType's table.
    @Test func pathStatus() {
        let ok = Fixture.ok(1), bad = Fixture.failed("failed")
        #expect(ConnectivityReachability.of(nil as PathStatus?) == .unreachable)
        let cases: [(ConnectivityStatus?, ConnectivityStatus?, ConnectivityReachability)] = [
            (ok, ok, .reachable), (bad, bad, .unreachable), (ok, bad, .unreachable), (bad, ok, .unreachable),
            (bad, nil, .unreachable), (nil, bad, .unreachable), (nil, nil, .unknown), (ok, nil, .unknown),
            (nil, ok, .unknown),
        ]
        for (icmp, http, expected) in cases {
            #expect(Fixture.path("1.1.1.1", icmp: icmp, http: http).reachability == expected)
        }
    }

    @Test func summariesAndHealth() {
        let node = Fixture.node("n", host: Fixture.path("a", icmp: Fixture.ok(1), http: nil),
                                hostSecondaries: [Fixture.path("b", icmp: Fixture.ok(1), http: Fixture.ok(1))],
                                endpoint: nil)
        #expect(node.hostSummary == PathSummary(reachable: 1, unknown: 1, total: 2, healthy: true))
        // A missing endpoint primary address counts as unreachable.
        #expect(node.endpointSummary == PathSummary(reachable: 0, unknown: 0, total: 1, healthy: false))
        #expect(!node.isHealthy)
        #expect(node.hostSummary.cellText == "1/2 (1 unknown)")

        let bare = NodeStatus(name: "bare", host: nil, healthEndpoint: nil)
        #expect(bare.isHealthy)
        #expect(bare.hostSummary.cellText == "0/0")
        #expect(bare.tableIPText == "Unavailable")
    }
}
