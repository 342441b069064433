import Agent
import Foundation
import HTTPSupport
import HealthAPI
import HealthDaemon
import XCTest

/// Fast detection, loss and honest HTTP timing on real local clusters.
final class FastDetectionTests: XCTestCase {
    /// Each node's own view, read from its health socket (no process per poll, so polls are dense).
    func views(_ cluster: ClusterFixture, _ nodes: [String]) async -> [String: HealthStatusResponse] {
        let layout = cluster.layout
        return await withTaskGroup(of: (String, HealthStatusResponse?).self) { group in
            for node in nodes {
                group.addTask {
                    let client = APIClient(endpoint: .unix(path: layout.healthSocket(node)), timeout: .seconds(2))
                    return (node, try? await client.json(.GET, "/v1beta/status", as: HealthStatusResponse.self))
                }
            }
            var out: [String: HealthStatusResponse] = [:]
            for await (node, status) in group { if let status { out[node] = status } }
            return out
        }
    }

    func wide(_ cluster: ClusterFixture, _ node: String) async throws -> WideStatusResponse {
        let client = APIClient(endpoint: .unix(path: cluster.layout.healthSocket(node)), timeout: .seconds(2))
        return try await client.json(.GET, "/v1beta/status/wide", as: WideStatusResponse.self)
    }

    /// Waits (bounded) until every node sees every node reachable: a peer's health endpoint that is
    /// still starting when a node's first round runs is a start-up blip (cilium#11874), not what
    /// these tests measure.
    func waitUntilAllReachable(_ cluster: ClusterFixture, _ nodes: [String], count: Int) async throws {
        let ready = Date().addingTimeInterval(40)
        var seen = await views(cluster, nodes)
        while Date() < ready,
              !(seen.count == nodes.count && seen.values.allSatisfy { $0.nodes.count == count && $0.nodes.allSatisfy(\.isHealthy) }) {
            try await Task.sleep(for: .milliseconds(500))
            seen = await views(cluster, nodes)
        }
        XCTAssertTrue(seen.count == nodes.count && seen.values.allSatisfy { $0.nodes.count == count && $0.nodes.allSatisfy(\.isHealthy) },
                      "the cluster never became fully reachable")
    }

    /// Upstream's sweep at ratio 0.5 over 20 addresses takes 183 s a round; the fast path must
    /// show a black-holed node on every other node in seconds, and its return as quickly.
    func testBlackHoledNodeIsReportedByEveryOtherNodeWithinSeconds() async throws {
        let cluster = try ClusterFixture(nodes: 10, probeRatio: 0.5)
        defer { cluster.down() }
        let observers = (1...10).filter { $0 != 7 }.map { "node-\($0)" }
        let victim = "\(cluster.name)/node-7"

        try await waitUntilAllReachable(cluster, observers, count: 10)
        // Let the watch probes learn the paths' RTTs.
        try await Task.sleep(for: .seconds(3))

        try cluster.fault("node-7", ["--drop", "all"])
        let faulted = Date()
        var reported: [String: TimeInterval] = [:]
        let bound: TimeInterval = 20
        while Date().timeIntervalSince(faulted) < bound, reported.count < observers.count {
            for (node, status) in await views(cluster, observers) where reported[node] == nil {
                if status.nodes.first(where: { $0.name == victim })?.isHealthy == false {
                    reported[node] = Date().timeIntervalSince(faulted)
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let times = observers.map { reported[$0].map { String(format: "%.2f s", $0) } ?? "never" }
        print("black-hole of node-7 reported by \(observers.joined(separator: ", ")): \(times.joined(separator: ", "))")
        XCTAssertEqual(Set(reported.keys), Set(observers), "not reported within \(bound) s: \(times)")
        // Each report is the observer's own evidence: its own ICMP probe of the node timed out.
        for (node, status) in await views(cluster, observers) {
            let path = status.nodes.first { $0.name == victim }?.host?.primaryAddress
            XCTAssertEqual(path?.icmp?.status, "Connection timed out", node)
        }
        let metrics = try cluster.metrics("node-1")
        XCTAssertTrue(metrics.contains(#"nethealth_detection_events_total{event="down"}"#), metrics)

        try cluster.fault("node-7", ["--clear"])
        let cleared = Date()
        var back = await views(cluster, observers)
        while Date().timeIntervalSince(cleared) < bound,
              !(back.count == 9 && back.values.allSatisfy { $0.nodes.allSatisfy(\.isHealthy) }) {
            try await Task.sleep(for: .milliseconds(200))
            back = await views(cluster, observers)
        }
        print("node-7 reachable again on every node after \(String(format: "%.2f", Date().timeIntervalSince(cleared))) s")
        let stale = back.flatMap { node, status in status.nodes.filter { !$0.isHealthy }.map { "\(node) sees \($0.name): \($0.allPaths)" } }
        XCTAssertEqual(stale, [], "still unreachable after clear")
    }

    /// 5 % inbound loss on every node (so on every link, both ways) and +50 ms on one node for
    /// 60 s: bursts and confirmation keep every node reachable the whole time.
    func testFivePercentLossEverywhereRaisesNoAlarm() async throws {
        let nodes = (1...6).map { "node-\($0)" }
        let cluster = try ClusterFixture(nodes: nodes.count, probeRatio: 0)
        defer { cluster.down() }
        try await waitUntilAllReachable(cluster, nodes, count: nodes.count)
        for node in nodes { try cluster.fault(node, ["--loss", "5"]) }
        try cluster.fault("node-2", ["--delay", "50"])
        let start = Date()
        var unhealthy: [String] = []
        var polls = 0
        while Date().timeIntervalSince(start) < 60 {
            for (node, status) in await views(cluster, nodes) {
                for peer in status.nodes where !peer.isHealthy {
                    unhealthy.append("\(node) saw \(peer.name) at \(Int(Date().timeIntervalSince(start))) s: \(peer.allPaths)")
                }
            }
            polls += 1
            try await Task.sleep(for: .milliseconds(250))
        }
        print("5 % loss soak: \(polls) polls of \(nodes.count) nodes over 60 s, \(unhealthy.count) unreachable sightings")
        XCTAssertEqual(unhealthy, [])
        for node in nodes {
            let metrics = try cluster.metrics(node)
            XCTAssertFalse(metrics.contains(#"nethealth_detection_events_total{event="down"}"#), "\(node) confirmed a peer down")
        }
        // The loss shows: every observer reads a few percent on every peer it watches.
        let view = try await wide(cluster, "node-1")
        let watchedPaths = view.paths.filter { p in view.prober.watched.contains(p.node) && p.type == "node" }
        XCTAssertFalse(watchedPaths.isEmpty)
        for path in watchedPaths {
            XCTAssertTrue((2...25).contains(path.lossPercent), "\(path.node): \(path.lossPercent) % over \(path.echoes) echoes")
        }
    }

    /// 30 % inbound loss on one node reads 30 ± 10 % on the other nodes, in `-o wide` and its JSON;
    /// upstream's table is unchanged by the new figures.
    func testThirtyPercentLossReadsThirty() async throws {
        let cluster = try ClusterFixture(nodes: 3, probeRatio: 0)
        defer { cluster.down() }
        try cluster.fault("node-3", ["--loss", "30"])
        let victim = "\(cluster.name)/node-3"
        // Each observer watches node-3 (5 echoes a second): wait for the estimate's window (128).
        let deadline = Date().addingTimeInterval(60)
        var readings: [String: PathStatisticsStatus] = [:]
        while Date() < deadline {
            for node in ["node-1", "node-2"] {
                readings[node] = try await wide(cluster, node).paths.first { $0.node == victim && $0.type == "node" }
            }
            if readings.count == 2, readings.values.allSatisfy({ $0.echoes >= 160 }) { break }
            try await Task.sleep(for: .seconds(1))
        }
        for (node, path) in readings {
            print("\(node) reads node-3 loss \(path.lossPercent) % over \(path.echoes) echoes, jitter \(path.jitter) ns")
            XCTAssertGreaterThanOrEqual(path.echoes, 160, node)
            XCTAssertTrue((20...40).contains(path.lossPercent), "\(node): \(path.lossPercent) %")
        }
        let text = try cluster.ciliumHealth("node-1", ["status", "-o", "wide"])
        XCTAssertEqual(text.status, 0, text.stderr)
        print(text.stdout)
        XCTAssertTrue(text.stdout.contains("Prober:") && text.stdout.contains("scheduling delay p50 "), text.stdout)
        let row = text.stdout.split(separator: "\n").first { $0.hasPrefix("  \(victim) ") && $0.contains("%") }
        XCTAssertNotNil(row, text.stdout)
        let plain = try cluster.ciliumHealth("node-1", ["status"])
        XCTAssertFalse(plain.stdout.contains("Loss") || plain.stdout.contains("Prober"), plain.stdout)
        XCTAssertTrue(plain.stdout.hasPrefix("Cluster health:"), plain.stdout)
    }

    /// Our HTTP figure is the network's and the responder's time, as curl's time_total is; the
    /// bench prints the exact gap, this test only checks they agree loosely.
    func testHTTPLatencyAgreesWithCurl() async throws {
        let cluster = try ClusterFixture(nodes: 2, probeRatio: 0)
        defer { cluster.down() }
        let target = "198.18.0.12"
        var ours: [Double] = []
        var curls: [Double] = []
        for _ in 0..<5 {
            let status = try cluster.status("node-1", probe: true)
            let path = status.nodes.first { $0.name.hasSuffix("/node-2") }?.host?.primaryAddress
            if let http = path?.http, http.status.isEmpty { ours.append(Double(http.latency) / 1e6) }
            let r = try cluster.agent(["cluster", "exec", "--name", cluster.name, "node-1", "--", "curl", "-sS", "-o", "/dev/null",
                                       "-w", "%{time_total}", "--max-time", "5", "http://\(target):4240/hello"])
            if r.status == 0, let s = Double(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) { curls.append(s * 1000) }
        }
        XCTAssertEqual(ours.count, 5)
        XCTAssertEqual(curls.count, 5)
        let median = { (v: [Double]) in v.sorted()[v.count / 2] }
        print(String(format: "HTTP to node-2: ours median %.3f ms, curl median %.3f ms", median(ours), median(curls)))
        // Before: 6.6 ms against curl's 1.7 ms. Loose: CI machines are busy.
        XCTAssertLessThan(abs(median(ours) - median(curls)), 1.5, "ours \(ours) curl \(curls)")
    }

    func testBadDetectionInputExitsTwo() throws {
        let bin = ClusterNaming.binDir
        for (argv, names) in [(["agent", "cluster", "up", "--icmp-burst", "-3"], "--icmp-burst"),
                              (["agent", "cluster", "up", "--icmp-burst", "0"], "--icmp-burst"),
                              (["agent", "cluster", "up", "--probe-ratio", "1.5"], "1.5"),
                              (["cilium-health", "status", "--no-such-flag"], "--no-such-flag"),
                              (["cilium-health", "get", "-o", "wide"], "wide")] {
            let r = try Command.run(["\(bin)/\(argv[0])"] + argv.dropFirst())
            XCTAssertEqual(r.status, 2, "\(argv): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(names), "\(argv) names \(names): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(argv): \(r.stderr)")
        }
    }
}
