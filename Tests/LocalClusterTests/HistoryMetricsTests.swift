import Foundation
import HealthAPI
import HealthDaemon
import HealthHistory
import XCTest

/// The history's gauges: loss per path type and protocol, and a bounded worst-K set that forgets
/// pairs leaving the top K (no N² series, no stale ones).
final class HistoryMetricsTests: XCTestCase {
    func summary(_ node: String, _ ip: String, p50: Int64?, samples: Int = 10, failures: Int = 0) -> RecentSummary {
        RecentSummary(target: HistoryTarget(node: "c/\(node)", ip: ip, path: "host", family: "ipv4", protocol: "icmp"),
                      samples: samples, failures: failures, p50: p50)
    }

    func testWorstPairsAreBoundedAndStaleOnesRemoved() {
        let metrics = HealthMetrics(worstK: 2)
        metrics.history.refresh(local: "c/node-1", recent: [
            summary("node-2", "198.18.0.12", p50: 20_000_000, failures: 3),
            summary("node-3", "198.18.0.13", p50: 1_000_000, failures: 1),
            summary("node-4", "198.18.0.14", p50: 5_000_000),
        ])
        var text = metrics.exposition()
        let worst = text.split(separator: "\n").filter { $0.hasPrefix("cilium_node_health_worst_latency_seconds{") }
        XCTAssertEqual(worst.count, 2, text)
        XCTAssertTrue(text.contains(#"cilium_node_health_worst_latency_seconds{protocol="icmp",rank="1",source_cluster="c",source_node_name="node-1",target_ip="198.18.0.12",target_node_name="node-2",type="node"} 0.02"#), text)
        XCTAssertTrue(text.contains(#"rank="2",source_cluster="c",source_node_name="node-1",target_ip="198.18.0.14""#), text)
        XCTAssertFalse(text.contains("198.18.0.13"), text)
        XCTAssertTrue(text.contains(#"cilium_node_health_connectivity_loss_ratio{protocol="icmp",source_cluster="c",source_node_name="node-1",type="node"} 0.13333"#), text)

        // node-2 recovers: it leaves the top 2 and its series goes away.
        metrics.history.refresh(local: "c/node-1", recent: [
            summary("node-2", "198.18.0.12", p50: 100_000),
            summary("node-3", "198.18.0.13", p50: 1_000_000),
            summary("node-4", "198.18.0.14", p50: 5_000_000),
        ])
        text = metrics.exposition()
        XCTAssertFalse(text.contains(#"target_ip="198.18.0.12""#), text)
        XCTAssertTrue(text.contains(#"rank="1",source_cluster="c",source_node_name="node-1",target_ip="198.18.0.14""#), text)
        XCTAssertTrue(text.contains(#"rank="2",source_cluster="c",source_node_name="node-1",target_ip="198.18.0.13""#), text)
    }
}
