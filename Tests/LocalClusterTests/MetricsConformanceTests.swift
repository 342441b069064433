import Agent
import Foundation
import HealthDaemon
import XCTest

/// A node's /metrics after a probe round, checked by Prometheus' own linter (`promtool check
/// metrics`) and against the health metrics upstream exposes by default (cilium pkg/health/server
/// and its tests): names, types, help, label names and histogram buckets.
final class MetricsConformanceTests: XCTestCase {
    struct Family {
        let name: String, type: String, help: String, labels: [String]
    }

    static let upstream: [Family] = [
        Family(name: "cilium_node_health_connectivity_status", type: "gauge",
               help: "The number of endpoints with last observed status of both ICMP and HTTP connectivity between the current Cilium agent and other Cilium nodes",
               labels: ["source_cluster", "source_node_name", "status", "type"]),
        Family(name: "cilium_node_health_connectivity_latency_seconds", type: "histogram",
               help: "The histogram for last observed latency between the current Cilium agent and other Cilium nodes in seconds",
               labels: ["address_type", "protocol", "source_cluster", "source_node_name", "type"]),
        Family(name: "cilium_unreachable_nodes", type: "gauge", help: "Number of nodes that cannot be reached", labels: []),
        Family(name: "cilium_unreachable_health_endpoints", type: "gauge",
               help: "Number of health endpoints that cannot be reached", labels: []),
    ]
    /// client_golang's DefBuckets (upstream sets none), then +Inf.
    static let upstreamBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, .infinity]

    func testMetricsAfterAProbeRoundPassPromtoolAndMatchUpstream() throws {
        let cluster = try ClusterFixture(nodes: 2, probeRatio: 0)
        defer { cluster.down() }
        var status = try cluster.status(probe: true)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !(status.nodes.count == 2 && status.nodes.allSatisfy { $0.allPaths.allSatisfy(\.fullyReachable) }) {
            Thread.sleep(forTimeInterval: 1)
            status = try cluster.status(probe: true)
        }
        XCTAssertTrue(status.nodes.allSatisfy { $0.allPaths.allSatisfy(\.fullyReachable) }, "a full round first")
        let text = try cluster.metrics("node-1")

        let lint = try Command.run(["promtool", "check", "metrics"], input: text, timeout: 30)
        XCTAssertEqual(lint.status, 0, "promtool: \(lint.stdout)\(lint.stderr)")
        XCTAssertEqual((lint.stdout + lint.stderr).trimmingCharacters(in: .whitespacesAndNewlines), "", "promtool found problems")

        let exposition = Exposition(text)
        // Ours, beside upstream's: summaries over paths, so labels stay bounded (no peer, no address).
        XCTAssertEqual(Set(exposition.samples("nethealth_path_loss_ratio").map { "\($0.label("type") ?? "")/\($0.label("stat") ?? "")" }),
                       ["node/mean", "node/max", "endpoint/mean", "endpoint/max"])
        XCTAssertEqual(exposition.samples("nethealth_prober_scheduling_delay_seconds").count, 3)
        XCTAssertEqual(exposition.samples("nethealth_detection_peers").count, 3)
        for family in ["nethealth_path_loss_ratio", "nethealth_path_jitter_seconds", "nethealth_prober_scheduling_delay_seconds"] {
            XCTAssertTrue(exposition.samples(family).allSatisfy { $0.labels.allSatisfy { !$0.1.contains(".") || Double($0.1) != nil } },
                          "\(family) carries no address")
        }
        for family in Self.upstream {
            XCTAssertEqual(exposition.types[family.name], family.type, family.name)
            XCTAssertEqual(exposition.helps[family.name], family.help, family.name)
        }
        let statusSamples = exposition.samples("cilium_node_health_connectivity_status")
        XCTAssertEqual(statusSamples.count, 6, "reachable|unreachable|unknown × node|endpoint")
        for sample in statusSamples {
            XCTAssertEqual(sample.labels.map(\.0), Self.upstream[0].labels, sample.line)
            XCTAssertEqual(sample.label("source_cluster"), cluster.name)
            XCTAssertEqual(sample.label("source_node_name"), "node-1")
        }
        // Two nodes (the local one included), one primary path each, all reachable.
        for type in ["node", "endpoint"] {
            for (reachability, expected) in [("reachable", 2.0), ("unreachable", 0), ("unknown", 0)] {
                let value = statusSamples.first { $0.label("type") == type && $0.label("status") == reachability }?.value
                XCTAssertEqual(value, expected, "\(type) \(reachability)")
            }
        }
        for name in ["cilium_unreachable_nodes", "cilium_unreachable_health_endpoints"] {
            XCTAssertEqual(exposition.samples(name).map(\.value), [0], name)
            XCTAssertEqual(exposition.samples(name).first?.labels.count, 0, name)
        }

        let latency = "cilium_node_health_connectivity_latency_seconds"
        let counts = exposition.samples(latency + "_count")
        let series = Set(counts.map { "\($0.label("type") ?? "")/\($0.label("protocol") ?? "")/\($0.label("address_type") ?? "")" })
        XCTAssertEqual(series, ["node/icmp/primary", "node/http/primary", "endpoint/icmp/primary", "endpoint/http/primary"])
        for count in counts {
            XCTAssertEqual(count.labels.map(\.0), Self.upstream[1].labels, count.line)
            XCTAssertGreaterThanOrEqual(count.value, 1, "observed when the round was published: \(count.line)")
            let buckets = exposition.samples(latency + "_bucket").filter { bucket in
                Self.upstream[1].labels.allSatisfy { bucket.label($0) == count.label($0) }
            }
            XCTAssertEqual(buckets.map { $0.labels.map(\.0) }, Array(repeating: Self.upstream[1].labels + ["le"], count: buckets.count))
            XCTAssertEqual(buckets.compactMap { $0.label("le").flatMap(Exposition.parseValue) }, Self.upstreamBuckets, count.line)
            XCTAssertEqual(buckets.last?.value, count.value, "+Inf holds every observation")
        }
        XCTAssertEqual(exposition.samples(latency + "_sum").count, counts.count)
    }
}

/// Just enough of the Prometheus text format to check families, labels and values.
struct Exposition {
    struct Sample {
        let line: String, name: String, labels: [(String, String)], value: Double
        func label(_ name: String) -> String? { labels.first { $0.0 == name }?.1 }
    }

    var types: [String: String] = [:]
    var helps: [String: String] = [:]
    var all: [Sample] = []

    init(_ text: String) {
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# TYPE ") || line.hasPrefix("# HELP ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1).map(String.init)
                guard let name = parts.first else { continue }
                if line.hasPrefix("# TYPE ") { types[name] = parts.last } else { helps[name] = parts.count > 1 ? parts[1] : "" }
            } else if !line.hasPrefix("#"), let sample = Self.sample(line) {
                all.append(sample)
            }
        }
    }

    func samples(_ name: String) -> [Sample] { all.filter { $0.name == name } }

    static func sample(_ line: String) -> Sample? {
        var labels: [(String, String)] = []
        let name: String, rest: Substring
        if let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") {
            name = String(line[..<open])
            for pair in line[line.index(after: open)..<close].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { return nil }
                labels.append((String(kv[0]), String(kv[1].dropFirst().dropLast())))
            }
            rest = line[line.index(after: close)...]
        } else {
            guard let space = line.firstIndex(of: " ") else { return nil }
            name = String(line[..<space])
            rest = line[space...]
        }
        guard let value = rest.split(separator: " ").first.flatMap({ parseValue(String($0)) }) else { return nil }
        return Sample(line: line, name: name, labels: labels, value: value)
    }

    static func parseValue(_ s: String) -> Double? {
        switch s {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        default: return Double(s)
        }
    }
}
