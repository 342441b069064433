import Testing
@testable import HealthAPI

/// cilium-cli's `cilium-health` scenario verdict.
struct HealthStatusValidationTests {
    func status(_ nodes: [NodeStatus]) -> HealthStatusResponse {
        HealthStatusResponse(timestamp: "2026-12-01T00:00:00Z", probeInterval: "1m", local: nil, nodes: nodes)
    }

    @Test func everyNodeListedAndEveryStatusEmptyPasses() {
        let ok = Fixture.node("c/node-1", host: Fixture.path("198.18.0.11", icmp: Fixture.ok(1), http: Fixture.ok(1)),
                              hostSecondaries: [], endpoint: Fixture.path("198.19.1.2", icmp: Fixture.ok(1), http: nil))
        #expect(HealthStatusValidation.problems(status([ok]), expectedNodes: 1).isEmpty)
    }

    @Test func missingNodesAndFailedPathsAreNamedAsCiliumCliWordsThem() {
        let bad = Fixture.node("c/node-2", host: Fixture.path("198.18.0.12", icmp: Fixture.failed("Connection timed out"), http: Fixture.ok(1)),
                               hostSecondaries: [Fixture.path("fd00::12", icmp: Fixture.ok(1), http: Fixture.failed("connection refused"))],
                               endpoint: nil)
        let problems = HealthStatusValidation.problems(status([bad]), expectedNodes: 3)
        #expect(problems == [
            "only 1/3 nodes appeared in cilium-health status. nodes = '[c/node-2]'",
            "connectivity to path 'c/node-2.host.primary-address.icmp.status' is unhealthy: 'Connection timed out'",
            "connectivity to path 'c/node-2.host.secondary-addresses.http.status' is unhealthy: 'connection refused'",
        ])
    }

    @Test func aNotReadyNodeFailsACordonedOnePasses() {
        var down = Fixture.node("c/node-3", host: nil, hostSecondaries: [], endpoint: nil)
        down.nodeState = ["NotReady"]
        down.notProbed = true
        var cordoned = Fixture.node("c/node-4", host: nil, hostSecondaries: [], endpoint: nil)
        cordoned.nodeState = ["Unschedulable"]
        cordoned.notProbed = true
        #expect(HealthStatusValidation.problems(status([down, cordoned]), expectedNodes: 2)
                == ["node 'c/node-3' is NotReady in Kubernetes (not probed)"])
    }
}
