import Agent
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HTTPSupport
import HealthAPI
import XCTest

/// Probe history end to end: real probes on a 3-node cluster, the agent's SQLite store, the
/// history API over health.sock and the CLI, under real delay and loss faults.
final class HistoryTests: XCTestCase {
    static let ms: Int64 = 1_000_000

    /// Runs probe rounds on node-1 (PUT /status/probe, one after another, 0.2 s apart) for `seconds`.
    func probeRounds(_ cluster: ClusterFixture, seconds: Double) async throws {
        let api = APIClient(endpoint: .unix(path: cluster.layout.healthSocket("node-1")), timeout: .seconds(20))
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            _ = try await api.send(.PUT, "/v1beta/status/probe")
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    func history(_ cluster: ClusterFixture, _ args: [String]) throws -> HistoryResponse {
        let r = try cluster.ciliumHealth("node-1", ["history", "-o", "json"] + args)
        guard r.status == 0 else { throw AgentError("history failed (\(r.status)): \(r.stderr)") }
        return try JSONDecoder().decode(HistoryResponse.self, from: Data(r.stdout.utf8))
    }

    func node2ICMP(_ r: HistoryResponse) -> [HistorySeries] {
        r.series.filter { $0.target.shortNode == "node-2" && $0.target.protocol == "icmp" }
    }

    func testHistoryTrendsLossPicturesAndCrashSafety() async throws {
        let cluster = try ClusterFixture(nodes: 3, probeRatio: 0)
        defer { cluster.down() }

        // Baseline.
        try await probeRounds(cluster, seconds: 8)
        var r = try history(cluster, ["--since", "1m", "--step", "1m"])
        XCTAssertEqual(r.source, "\(cluster.name)/node-1")
        // 3 nodes × (host + endpoint) × (icmp + http): every path has samples.
        XCTAssertEqual(r.series.count, 12, r.series.map { "\($0.target)" }.joined(separator: "\n"))
        for s in r.series {
            XCTAssertGreaterThanOrEqual(s.windows.reduce(0) { $0 + $1.samples }, 20, "\(s.target)")
        }

        // +20 ms on node-2: its median rises by about 20 ms and the trend says slower.
        try cluster.fault("node-2", ["--delay", "20"])
        try await Task.sleep(for: .seconds(1))
        try await probeRounds(cluster, seconds: 8)
        r = try history(cluster, ["--since", "1m", "--step", "1m", "--trend-window", "8s"])
        XCTAssertEqual(node2ICMP(r).count, 2)  // host and health endpoint, both behind node-2's eth0
        for s in node2ICMP(r) {
            XCTAssertEqual(s.trend.verdict, .slower, "\(s.target) \(s.trend)")
            let rise = (s.trend.recentP50 ?? 0) - (s.trend.previousP50 ?? 0)
            XCTAssertTrue((15 * Self.ms...35 * Self.ms).contains(rise), "\(s.target): p50 rose by \(rise) ns")
        }
        for s in r.series where s.target.shortNode != "node-2" && s.target.protocol == "icmp" {
            XCTAssertNotEqual(s.trend.verdict, .slower, "\(s.target) \(s.trend)")
        }
        let table = try cluster.ciliumHealth("node-1", ["history", "node-2", "--since", "1m", "--trend-window", "8s"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("slower"), table.stdout)
        XCTAssertFalse(table.stdout.contains("node-3"), table.stdout)

        // Cleared: back to where it was.
        try cluster.fault("node-2", ["--clear"])
        try await Task.sleep(for: .seconds(1))
        try await probeRounds(cluster, seconds: 8)
        r = try history(cluster, ["node-2", "--since", "1m", "--step", "1m", "--trend-window", "8s"])
        for s in node2ICMP(r) {
            XCTAssertEqual(s.trend.verdict, .faster, "\(s.target) \(s.trend)")
            XCTAssertLessThan(s.trend.recentP50 ?? .max, 5 * Self.ms, "\(s.target)")
        }

        // 30 % inbound loss on node-2: about 30 % of its ICMP echoes go unanswered.
        try cluster.fault("node-2", ["--loss", "30"])
        let lossStart = Date().addingTimeInterval(1)
        var samples = 0, failures = 0
        let giveUp = Date().addingTimeInterval(60)
        while samples < 80, Date() < giveUp {
            try await probeRounds(cluster, seconds: 5)
            r = try history(cluster, ["node-2", "--protocol", "icmp", "--since", "2m", "--step", "1s"])
            let start = RFC3339.string(lossStart.addingTimeInterval(1))
            let windows = r.series.flatMap(\.windows).filter { $0.start >= start }
            samples = windows.reduce(0) { $0 + $1.samples }
            failures = windows.reduce(0) { $0 + $1.failures }
        }
        XCTAssertGreaterThanOrEqual(samples, 60)
        let loss = Double(failures) * 100 / Double(max(1, samples))
        XCTAssertTrue((12.0...50.0).contains(loss), "loss \(loss)% over \(samples) echoes")
        let csv = try cluster.ciliumHealth("node-1", ["history", "node-2", "--since", "1m", "-o", "csv"])
        XCTAssertTrue(csv.stdout.hasPrefix("node,ip,path,family,protocol,window_start,"), csv.stdout)
        try cluster.fault("node-2", ["--clear"])

        // Pictures: the chart has one series per target; the heatmap matches every node's status.
        let plot = cluster.stateDir + "/rtt.svg"
        let p = try cluster.ciliumHealth("node-1", ["plot", "--since", "5m", "-o", plot])
        XCTAssertEqual(p.status, 0, p.stderr)
        let plotted = try history(cluster, ["--since", "5m"])
        XCTAssertEqual(try SVGShape(contentsOf: plot).series, Set(plotted.series.map { "\($0.target.node) \($0.target.ip) \($0.target.protocol)" }))
        if (try? Command.resolve("rsvg-convert")) != nil {
            let png = try cluster.ciliumHealth("node-1", ["plot", "--since", "5m", "-o", cluster.stateDir + "/rtt.png"])
            XCTAssertEqual(png.status, 0, png.stderr)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: cluster.stateDir + "/rtt.png"))
            XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        }
        try cluster.fault("node-3", ["--drop", "all"])
        let sockets = ["node-1", "node-2"].map(cluster.layout.healthSocket)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for socket in sockets {
                group.addTask { _ = try await APIClient(endpoint: .unix(path: socket), timeout: .seconds(20)).send(.PUT, "/v1beta/status/probe") }
            }
            try await group.waitForAll()
        }
        let heat = cluster.stateDir + "/heatmap.svg"
        let h = try cluster.agent(["cluster", "heatmap", "--name", cluster.name, "-o", heat])
        XCTAssertEqual(h.status, 0, h.stderr)
        let cells = try SVGShape(contentsOf: heat).cells
        XCTAssertEqual(cells.count, 9)
        for source in ["node-1", "node-2"] {
            let status = try cluster.status(source)
            for node in status.nodes {
                let key = "\(cluster.name)/\(source) \(node.name)"
                let unreachable = ConnectivityReachability.of(node.host?.primaryAddress) == .unreachable
                XCTAssertEqual(cells[key] == "unreachable", unreachable, key)
                if node.name.hasSuffix("node-3") { XCTAssertEqual(cells[key], "unreachable", key) }
            }
        }
        try cluster.fault("node-3", ["--clear"])

        // kill -9 node-1's agent while it writes: the supervisor restarts it, the file opens, nothing committed is lost.
        let before = try history(cluster, ["--since", "10m", "--step", "10m"]).series.reduce(0) { $0 + $1.windows.reduce(0) { $0 + $1.samples } }
        let pidText = try String(contentsOfFile: cluster.layout.agentPidfile("node-1"), encoding: .utf8)
        let pid = try XCTUnwrap(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        try await probeRounds(cluster, seconds: 1.5)
        XCTAssertEqual(kill(pid, SIGKILL), 0)
        var after: HistoryResponse?
        let back = Date().addingTimeInterval(15)
        while after == nil, Date() < back {
            try await Task.sleep(for: .milliseconds(300))
            after = try? history(cluster, ["--since", "10m", "--step", "10m"])
        }
        let total = try XCTUnwrap(after, "agent did not come back").series.reduce(0) { $0 + $1.windows.reduce(0) { $0 + $1.samples } }
        XCTAssertGreaterThanOrEqual(total, before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cluster.layout.nodeDir("node-1"))
        XCTAssertFalse(leftovers.contains { $0.contains(".corrupt-") || $0.contains(".foreign-") }, "\(leftovers)")

        // Bad input: clear errors, non-zero exits.
        let unknown = try cluster.ciliumHealth("node-1", ["history", "node-9"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("unknown node 'node-9': the history has \(cluster.name)/node-1"), unknown.stderr)
    }

    func testBadHistoryInputIsRefusedBeforeAnyRequest() throws {
        let bin = ClusterNaming.binDir + "/cilium-health"
        let dirNamedSVG = NSTemporaryDirectory() + "history-test-\(getpid()).svg"
        try FileManager.default.createDirectory(atPath: dirNamedSVG, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dirNamedSVG) }
        let cases: [([String], String)] = [
            (["history", "--since", "yesterday"], "invalid --since 'yesterday': use a duration such as 30s, 15m, 6h or 7d"),
            (["history", "--path", "pod"], "invalid --path 'pod': use host or endpoint"),
            (["history", "--protocol", "udp"], "invalid --protocol 'udp': use icmp or http"),
            (["plot", "-o", "chart.pdf"], "invalid -o 'chart.pdf': name an .svg or .png file"),
            (["plot", "-o", dirNamedSVG], "invalid -o '\(dirNamedSVG)': is a directory"),
        ]
        for (args, message) in cases {
            let r = try Command.run([bin, "-H", "unix:///nonexistent/health.sock"] + args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
    }
}

/// The parts of our SVGs the tests check; parsing at all proves it is well-formed XML.
struct SVGShape {
    var series = Set<String>()
    var cells: [String: String] = [:]

    init(contentsOf path: String) throws {
        final class Delegate: NSObject, XMLParserDelegate {
            var series = Set<String>(), cells: [String: String] = [:]
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                let cls = attributes["class"] ?? ""
                if name == "g", cls == "series" {
                    series.insert("\(attributes["data-node"] ?? "") \(attributes["data-ip"] ?? "") \(attributes["data-protocol"] ?? "")")
                }
                if name == "g", cls.hasPrefix("cell "), let s = attributes["data-source"], let t = attributes["data-target"] {
                    cells["\(s) \(t)"] = String(cls.dropFirst(5))
                }
            }
        }
        let parser = try XCTUnwrap(XMLParser(contentsOf: URL(fileURLWithPath: path)))
        let delegate = Delegate()
        parser.delegate = delegate
        guard parser.parse() else { throw AgentError("\(path) is not XML: \(String(describing: parser.parserError))") }
        series = delegate.series
        cells = delegate.cells
    }
}
