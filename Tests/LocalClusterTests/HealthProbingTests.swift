import Agent
import Foundation
import HealthAPI
import XCTest

/// Health probing end to end on real local clusters: real namespaces, raw ICMP and HTTP on :4240.
final class HealthProbingTests: XCTestCase {
    func testThreeNodesAllReachableWithinOneInterval() throws {
        let cluster = try ClusterFixture(nodes: 3, probeRatio: 0)
        defer { cluster.down() }
        // Ratio 0 and 6 addresses: interval = 10 s · ln(7) ≈ 19.5 s; launches are spread across it.
        let interval = 10 * log(7.0)
        let deadline = Date().addingTimeInterval(interval + 12)
        var status = try cluster.status()
        while Date() < deadline, !(status.nodes.count == 3 && status.nodes.allSatisfy { $0.allPaths.allSatisfy(\.fullyReachable) }) {
            Thread.sleep(forTimeInterval: 1)
            status = try cluster.status()
        }
        XCTAssertEqual(status.local?.name, "\(cluster.name)/node-1")
        XCTAssertEqual(status.nodes.map(\.name), (1...3).map { "\(cluster.name)/node-\($0)" })
        for node in status.nodes {
            XCTAssertNotNil(node.host?.primaryAddress, node.name)
            XCTAssertNotNil(node.healthEndpoint?.primaryAddress, node.name)
            for path in node.allPaths {
                XCTAssertTrue(path.fullyReachable, "\(node.name) \(path.ip): icmp=\(String(describing: path.icmp)) http=\(String(describing: path.http))")
            }
        }
        XCTAssertNotNil(status.probeInterval)
        let table = try cluster.ciliumHealth("node-1", ["status"])
        XCTAssertEqual(table.status, 0)
        XCTAssertTrue(table.stdout.hasReachableSummary("3/3"), table.stdout)
        XCTAssertTrue(table.stdout.contains("  \(cluster.name)/node-1 (localhost)"), table.stdout)
    }

    func testFaultsShowWhereConnectivityBreaks() throws {
        let cluster = try ClusterFixture(nodes: 3)
        defer { cluster.down() }
        let node2 = "\(cluster.name)/node-2"

        try cluster.fault("node-2", ["--drop", "icmp"])
        var status = try cluster.status(probe: true)
        var broken = try XCTUnwrap(status.nodes.first { $0.name == node2 })
        for path in broken.allPaths {
            XCTAssertEqual(path.icmp?.status, "Connection timed out", path.ip)
            XCTAssertEqual(path.http?.status, "", path.ip)
            XCTAssertGreaterThan(path.http?.latency ?? 0, 0, path.ip)
        }
        for node in status.nodes where node.name != node2 {
            XCTAssertTrue(node.allPaths.allSatisfy(\.fullyReachable), node.name)
        }
        var table = try cluster.ciliumHealth("node-1", ["status"])
        XCTAssertTrue(table.stdout.hasReachableSummary("2/3"), table.stdout)

        try cluster.fault("node-2", ["--drop", "all"])
        let started = Date()
        status = try cluster.status(probe: true)
        // Bounded: a black-holed node costs one probe deadline (10 s), never a hang.
        XCTAssertLessThan(Date().timeIntervalSince(started), 12)
        broken = try XCTUnwrap(status.nodes.first { $0.name == node2 })
        for path in broken.allPaths {
            XCTAssertEqual(path.icmp?.status, "Connection timed out", path.ip)
            XCTAssertTrue(path.http?.status.hasPrefix("Get \"http://\(path.ip):4240/hello\": ") == true,
                          String(describing: path.http))
        }
        table = try cluster.ciliumHealth("node-1", ["status", "--verbose"])
        XCTAssertTrue(table.stdout.contains("ICMP to stack:   Connection timed out"), table.stdout)
        // cilium-cli's verdict: exit 1, each broken path named in its wording.
        let verdict = try cluster.ciliumHealth("node-1", ["status", "--expect-nodes", "3", "-o", "json"])
        XCTAssertEqual(verdict.status, 1, verdict.stderr)
        XCTAssertTrue(verdict.stderr.contains("connectivity to path '\(node2).host.primary-address.icmp.status' is unhealthy: 'Connection timed out'"),
                      verdict.stderr)
        XCTAssertNoThrow(try JSONDecoder().decode(HealthStatusResponse.self, from: Data(verdict.stdout.utf8)), "output unchanged")
        // Metrics agree with the CLI: one node and one health endpoint unreachable, 2 paths each way.
        let metrics = try cluster.metrics("node-1")
        XCTAssertTrue(metrics.contains("\ncilium_unreachable_nodes 1.0\n"), metrics)
        XCTAssertTrue(metrics.contains("\ncilium_unreachable_health_endpoints 1.0\n"), metrics)
        XCTAssertTrue(metrics.contains(#"cilium_node_health_connectivity_status{source_cluster="\#(cluster.name)",source_node_name="node-1",status="unreachable",type="node"} 1.0"#), metrics)
        XCTAssertTrue(metrics.contains(#"cilium_node_health_connectivity_status{source_cluster="\#(cluster.name)",source_node_name="node-1",status="reachable",type="endpoint"} 2.0"#), metrics)
        XCTAssertTrue(metrics.contains(#"cilium_node_health_connectivity_latency_seconds_count{address_type="primary",protocol="icmp",source_cluster="\#(cluster.name)",source_node_name="node-1",type="node"}"#), metrics)

        try cluster.fault("node-2", ["--clear"])
        status = try cluster.status(probe: true)
        for node in status.nodes {
            XCTAssertTrue(node.allPaths.allSatisfy(\.fullyReachable), node.name)
        }
        table = try cluster.ciliumHealth("node-1", ["status"])
        XCTAssertTrue(table.stdout.hasReachableSummary("3/3"), table.stdout)
        XCTAssertEqual(try cluster.ciliumHealth("node-1", ["status", "--probe", "--expect-nodes", "3"]).status, 0)
        let missing = try cluster.ciliumHealth("node-1", ["status", "--expect-nodes", "4"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("only 3/4 nodes appeared in cilium-health status"), missing.stderr)
    }

    func testDualStackProbesSecondaryAddresses() throws {
        let cluster = try ClusterFixture(nodes: 3, ipv6: true)
        defer { cluster.down() }
        let status = try cluster.status("node-2", probe: true)
        XCTAssertEqual(status.local?.name, "\(cluster.name)/node-2")
        for node in status.nodes {
            let i = try XCTUnwrap(Int(node.name.split(separator: "-").last ?? ""))
            XCTAssertEqual(node.host?.primaryAddress?.ip, "198.18.0.\(10 + i)")
            XCTAssertEqual(node.host?.secondaryAddresses.map(\.ip), ["fd00:198::\(10 + i)"])
            XCTAssertEqual(node.healthEndpoint?.primaryAddress?.ip, "198.19.\(i).2")
            XCTAssertEqual(node.healthEndpoint?.secondaryAddresses.map(\.ip), ["fd00:199:0:\(i)::2"])
            for path in node.allPaths {
                XCTAssertTrue(path.fullyReachable, "\(node.name) \(path.ip): \(String(describing: path.icmp)) \(String(describing: path.http))")
            }
        }
        let table = try cluster.ciliumHealth("node-2", ["status"])
        XCTAssertTrue(table.stdout.contains("198.18.0.12,fd00:198::12"), table.stdout)
        XCTAssertTrue(table.stdout.hasReachableSummary("3/3"), table.stdout)
        let verbose = try cluster.ciliumHealth("node-2", ["status", "--verbose"])
        XCTAssertTrue(verbose.stdout.contains("Secondary Host connectivity to fd00:198::11:"), verbose.stdout)
        XCTAssertTrue(verbose.stdout.contains("Secondary Endpoint connectivity to fd00:199:0:3::2:"), verbose.stdout)

        // One family broken: the dual-stack view shows exactly which paths fail.
        try cluster.fault("node-3", ["--drop", "icmp"])
        let faulted = try cluster.status("node-2", probe: true)
        let node3 = try XCTUnwrap(faulted.nodes.first { $0.name.hasSuffix("node-3") })
        XCTAssertEqual(node3.allPaths.map { $0.icmp?.status }, Array(repeating: "Connection timed out", count: 4))
    }
}

extension String {
    /// `Cluster health:` line of the table; the tabwriter aligns it with the header, so spacing varies.
    func hasReachableSummary(_ fraction: String) -> Bool {
        guard let first = split(separator: "\n").first else { return false }
        let words = first.split(separator: " ")
        return words.starts(with: ["Cluster", "health:", Substring(fraction), "reachable"])
    }
}
