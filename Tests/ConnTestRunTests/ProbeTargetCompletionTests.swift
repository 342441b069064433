import XCTest
@testable import ConnTest

/// `conntest run -t …` must not run a check without the server it probes: a deny check against a
/// name that does not resolve would pass for the wrong reason.
final class ProbeTargetCompletionTests: XCTestCase {
    private func complete(_ tags: [String]) throws -> ProbeTargetCompletion.Completed {
        let suite = ConnectivitySuite.resources(GeneratorOptions())
        return try ProbeTargetCompletion.complete(try TagSelection.parse(tags).filter(suite), from: suite)
    }

    func testPolicyComponentGetsEchoAAndItsService() throws {
        let c = try complete(["component=policy"])
        XCTAssertEqual(c.added, ["Deployment echo-a", "Service echo-a"])
        let workload = try RunWorkload(resources: c.resources)
        XCTAssertEqual(workload.servers.map(\.name), ["echo-a"])
        let denied = try XCTUnwrap(workload.checks.first { $0.name == "pod-to-a-denied-cnp" })
        XCTAssertEqual(workload.probeTargets(of: denied), ["echo-a"], "the probe's host now resolves to a server")
        XCTAssertEqual(workload.policies.count, 3, "policies stay as selected")
    }

    func testNodePortCheckGetsTheHostServerAndWhatItFollows() throws {
        let c = try complete(["name=pod-to-b-intra-node-nodeport"])
        // echo-b-host-headless is probed; echo-b-host follows echo-b (podAffinity), and the check itself is
        // placed next to echo-b. echo-b's own Services are not probed, so they are not added.
        XCTAssertEqual(Set(c.added), ["Deployment echo-b", "Deployment echo-b-host", "Service echo-b-host-headless"])
    }

    func testMultiNodeCheckGetsTheServerItAvoids() throws {
        let c = try complete(["name=pod-to-b-multi-node-headless"])
        XCTAssertEqual(Set(c.added), ["Deployment echo-b", "Service echo-b-headless"])
    }

    func testFullSelectionsAreUnchanged() throws {
        XCTAssertEqual(try complete([]).added, [])
        XCTAssertEqual(try complete(["component=all"]).added, [])
        let suite = ConnectivitySuite.resources(GeneratorOptions())
        XCTAssertEqual(try complete([]).resources.map(\.name), try TagSelection.parse([]).filter(suite).map(\.name))
        XCTAssertEqual(try complete(["traffic=external", "kind=Deployment"]).added, [], "external targets are not Services")
    }
}
