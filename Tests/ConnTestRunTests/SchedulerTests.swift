import XCTest
@testable import ConnTest

final class SchedulerTests: XCTestCase {
    private func plan(_ variant: Variant, nodes: Int) throws -> RunPlan {
        try RunPlan(workload: try RunWorkload(resources: try variant.resources()), nodeCount: nodes,
                    capabilities: LocalCapabilities(externalHost: true, l7Policy: true, fqdnPolicy: true, policyEnforcement: true))
    }

    /// Every required term of every placed pod holds in the result.
    private func assertAffinityHonoured(_ plan: RunPlan, file: StaticString = #filePath, line: UInt = #line) {
        let all = plan.workload.all
        for pod in all {
            guard let node = plan.schedule.placement(of: pod.name)?.nodeName else { continue }
            for term in pod.affinity {
                let targets = all.filter { term.matches($0.podLabels) }.compactMap { plan.schedule.placement(of: $0.name)?.nodeName }
                switch term.kind {
                case .affinity: XCTAssertTrue(targets.contains(node), "\(pod.name) not with \(term.targetDescription)", file: file, line: line)
                case .antiAffinity: XCTAssertFalse(targets.contains(node), "\(pod.name) shares a node with \(term.targetDescription)", file: file, line: line)
                }
            }
        }
    }

    func testThreeNodesPlaceEverything() throws {
        let p = try plan(.default, nodes: 3)
        XCTAssertEqual(p.schedule.pending, [:])
        XCTAssertEqual(p.schedule.placements.count, 14)
        assertAffinityHonoured(p)
        XCTAssertEqual(p.schedule.placement(of: "echo-b-host"), p.schedule.placement(of: "echo-b"))
        // Deterministic, and spread: servers land on distinct nodes round-robin.
        XCTAssertEqual(try plan(.default, nodes: 3).schedule, p.schedule)
        XCTAssertEqual(p.schedule.placement(of: "echo-a"), .node("node-1"))
        XCTAssertEqual(p.schedule.placement(of: "echo-b"), .node("node-2"))
        XCTAssertEqual(Set(p.schedule.placements.values.compactMap(\.nodeName)).count, 3)
    }

    func testOneNodeLeavesExactlyMultiNodeChecksPending() throws {
        let p = try plan(.default, nodes: 1)
        let multiNode = Set(p.workload.checks.filter { $0.topology == .multiNode }.map(\.name))
        XCTAssertEqual(multiNode.count, 5)
        XCTAssertEqual(Set(p.schedule.pending.keys), multiNode)
        XCTAssertEqual(p.schedule.pending["pod-to-b-multi-node-clusterip"], "0/1 nodes: pod anti-affinity to echo-b")
        assertAffinityHonoured(p)
    }

    func testHostportVariantOnTwoNodes() throws {
        let p = try plan(.hostport, nodes: 2)
        XCTAssertEqual(p.schedule.pending, [:])
        assertAffinityHonoured(p)
        let one = try plan(.hostport, nodes: 1)
        XCTAssertEqual(Set(one.schedule.pending.keys), Set(one.workload.checks.filter { $0.topology == .multiNode }.map(\.name)))
    }

    func testHostPortConflictKeepsSecondPodPending() throws {
        func server(_ name: String) -> WorkloadDeployment {
            WorkloadDeployment(name: name, labels: nil, podLabels: ["name": name], hostNetwork: true,
                               containers: [ContainerRunSpec(name: "c", env: ["PORT": "31000"])], affinity: [], role: .server)
        }
        let one = try PodScheduler(nodeCount: 1).schedule([server("a"), server("b")])
        XCTAssertEqual(one.placement(of: "a"), .node("node-1"))
        XCTAssertEqual(one.placement(of: "b"), .pending(reason: "0/1 nodes: host port 31000/TCP in use by a"))
        let two = try PodScheduler(nodeCount: 2).schedule([server("a"), server("b")])
        XCTAssertEqual(two.pending, [:])
    }

    func testAffinityDeferredWhenTargetComesLaterAndPendingWhenMissing() throws {
        let follower = WorkloadDeployment(name: "f", labels: nil, podLabels: ["name": "f"], hostNetwork: false, containers: [],
                                          affinity: [PodAffinityTerm(kind: .affinity, requirements: [.init(key: "name", op: .in, values: ["t"])])],
                                          role: .check)
        let target = WorkloadDeployment(name: "t", labels: nil, podLabels: ["name": "t"], hostNetwork: false, containers: [],
                                        affinity: [], role: .server)
        let s = try PodScheduler(nodeCount: 3).schedule([follower, target])
        XCTAssertEqual(s.placement(of: "f"), s.placement(of: "t"))
        let missing = try PodScheduler(nodeCount: 2).schedule([follower])
        XCTAssertEqual(missing.placement(of: "f"), .pending(reason: "0/2 nodes: pod affinity to t: no such pod scheduled"))
    }

    func testZeroNodesIsAUsageError() {
        XCTAssertThrowsError(try PodScheduler(nodeCount: 0))
    }
}
