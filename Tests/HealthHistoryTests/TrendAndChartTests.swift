import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HealthAPI
@testable import HealthHistory
import XCTest

final class TrendAndChartTests: XCTestCase {
    /// Loopback-like RTTs: 80-400 µs with a few spikes, as a quiet path shows.
    func noisy(_ n: Int, seed: UInt64, offset: Int64 = 0) -> [Int64] {
        var state = seed
        return (0..<n).map { i in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let base = Int64(80_000 + (state >> 33) % 320_000)
            return (i % 17 == 0 ? base * 8 : base) + offset
        }
    }

    func testTrendFlagsARealShiftButNotNoise() {
        let rule = TrendRule()
        let before = noisy(30, seed: 1)
        XCTAssertEqual(rule.verdict(previous: before, recent: noisy(30, seed: 2)).verdict, .steady)
        let slower = rule.verdict(previous: before, recent: noisy(30, seed: 3, offset: 20_000_000))
        XCTAssertEqual(slower.verdict, .slower)
        XCTAssertLessThan(slower.pValue ?? 1, 0.001)
        XCTAssertEqual(rule.verdict(previous: noisy(30, seed: 4, offset: 20_000_000), recent: before).verdict, .faster)
        // Significant but tiny (+150 µs on a quiet path): not worth flagging.
        XCTAssertEqual(rule.verdict(previous: before, recent: noisy(30, seed: 5, offset: 150_000)).verdict, .steady)
        // Too few samples to tell, however large the change.
        XCTAssertEqual(rule.verdict(previous: noisy(5, seed: 6), recent: noisy(5, seed: 7, offset: 50_000_000)).verdict, .insufficient)
    }

    func testMannWhitneyMatchesAKnownValue() throws {
        // Two clearly separated samples of 10: U = 0, z = (50 - 0.5)/sqrt(175) -> p ≈ 0.000183.
        let p = try XCTUnwrap(MannWhitney.pValue(Array(1...10), Array(11...20)))
        XCTAssertEqual(p, 0.000183, accuracy: 0.00001)
        XCTAssertEqual(MannWhitney.pValue([5, 5, 5], [5, 5, 5]), 1)
    }

    static func series(_ node: String, proto: String, windows: [HistoryWindow]) -> HistorySeries {
        HistorySeries(target: HistoryTarget(node: node, ip: "198.18.0.12", path: "host", family: "ipv4", protocol: proto),
                      windows: windows, trend: TrendVerdict(verdict: .steady, previousSamples: 10, recentSamples: 10))
    }

    func testChartIsXMLWithOneSeriesPerTarget() throws {
        let ok = HistoryWindow(start: "2027-01-15T08:00:00Z", samples: 10, failures: 1, min: 100_000, p10: 120_000, p50: 200_000,
                               p90: 900_000, p99: 2_000_000, max: 2_000_000)
        let dead = HistoryWindow(start: "2027-01-15T08:01:00Z", samples: 4, failures: 4)
        let response = HistoryResponse(source: "c/node-1 & <friends>", since: "2027-01-15T08:00:00Z", until: "2027-01-15T08:03:00Z",
                                       stepSeconds: 60, trendWindowSeconds: 60,
                                       series: [Self.series("c/node-2", proto: "icmp", windows: [ok, dead, ok]),
                                                Self.series("c/node-2", proto: "http", windows: [ok, ok, ok]),
                                                Self.series("c/node-3", proto: "icmp", windows: [dead, dead, ok])])
        let svg = RTTChart.svg(response)
        let groups = try XMLShape(svg)
        XCTAssertEqual(groups.seriesCount, 3)
        XCTAssertEqual(groups.classes["median", default: 0], 7)  // a polyline per run of windows with data, plus a dot for a lone one
        XCTAssertEqual(groups.classes["unreachable", default: 0], 3)
        XCTAssertTrue(svg.contains("c/node-1 &amp; &lt;friends&gt;"))
    }

    func testHeatmapCellsFollowStatus() throws {
        func path(_ ip: String, icmp: ConnectivityStatus?, http: ConnectivityStatus?) -> AddressesStatus {
            AddressesStatus(primaryAddress: PathStatus(ip: ip, icmp: icmp, http: http), secondaryAddresses: [])
        }
        let fast = ConnectivityStatus(latency: 300_000, status: "", lastProbed: "")
        let slow = ConnectivityStatus(latency: 25_000_000, status: "", lastProbed: "")
        let lost = ConnectivityStatus(latency: 0, status: "Connection timed out", lastProbed: "")
        let status = HealthStatusResponse(timestamp: "", probeInterval: nil, local: SelfStatus(name: "c/node-1"), nodes: [
            NodeStatus(name: "c/node-1", host: path("198.18.0.11", icmp: fast, http: fast), healthEndpoint: nil),
            NodeStatus(name: "c/node-2", host: path("198.18.0.12", icmp: slow, http: fast), healthEndpoint: nil),
            NodeStatus(name: "c/node-3", host: path("198.18.0.13", icmp: lost, http: fast), healthEndpoint: nil),
        ])
        let (nodes, cells) = Heatmap.cells(from: ["c/node-1": status])
        XCTAssertEqual(nodes, ["c/node-1", "c/node-2", "c/node-3"])
        XCTAssertEqual(cells["c/node-1"]?["c/node-2"], .latency(25_000_000))
        XCTAssertEqual(cells["c/node-1"]?["c/node-3"], .unreachable("Connection timed out"))
        let svg = Heatmap.svg(nodes: nodes, cells: cells, title: "t")
        let shape = try XMLShape(svg)
        XCTAssertEqual(shape.cells["c/node-1 c/node-1"], "lt1ms")
        XCTAssertEqual(shape.cells["c/node-1 c/node-2"], "lt100ms")
        XCTAssertEqual(shape.cells["c/node-1 c/node-3"], "unreachable")
        XCTAssertEqual(shape.cells["c/node-2 c/node-1"], "unknown")
        XCTAssertEqual(shape.cells.count, 9)
    }

    func testCSVHasAHeaderAndOneRowPerWindow() {
        let w = HistoryWindow(start: "2027-01-15T08:00:00Z", samples: 4, failures: 1, min: 1_000_000, p10: 1_000_000,
                              p50: 1_500_000, p90: 2_000_000, p99: 2_000_000, max: 2_000_000)
        let r = HistoryResponse(source: "c/node-1", since: "", until: "", stepSeconds: 60, trendWindowSeconds: 60,
                                series: [Self.series("c/node-2", proto: "icmp", windows: [w, HistoryWindow(start: "x", samples: 0, failures: 0)])])
        let lines = HistoryFormatter.csv(r).split(separator: "\n")
        XCTAssertEqual(lines.first.map(String.init), HistoryFormatter.csvHeader)
        XCTAssertEqual(lines[1], "c/node-2,198.18.0.12,host,ipv4,icmp,2027-01-15T08:00:00Z,4,1,25.00,1.000,1.000,1.500,2.000,2.000,2.000")
        XCTAssertEqual(lines[2], "c/node-2,198.18.0.12,host,ipv4,icmp,x,0,0,0.00,,,,,,")
        XCTAssertTrue(HistoryFormatter.table(r).contains("  node-2   198.18.0.12   host   icmp    2027-01-15T08:00:00Z   4         25.0%   1.5ms"), HistoryFormatter.table(r))
    }

    func testTableLeavesOutWindowsBeforeTheFirstSampleButShowsGaps() {
        let empty = { (start: String) in HistoryWindow(start: start, samples: 0, failures: 0) }
        let full = HistoryWindow(start: "2027-01-15T08:02:00Z", samples: 4, failures: 0, min: 1_000_000, p10: 1_000_000,
                                 p50: 1_500_000, p90: 2_000_000, p99: 2_000_000, max: 2_000_000)
        let r = HistoryResponse(source: "c/node-1", since: "", until: "", stepSeconds: 60, trendWindowSeconds: 60,
                                series: [Self.series("c/node-2", proto: "icmp", windows: [
                                    empty("2027-01-15T08:00:00Z"), empty("2027-01-15T08:01:00Z"), full,
                                    empty("2027-01-15T08:03:00Z"), full])])
        let table = HistoryFormatter.table(r)
        XCTAssertFalse(table.contains("08:00:00Z") || table.contains("08:01:00Z"), table)
        XCTAssertTrue(table.contains("08:03:00Z"), table)
        XCTAssertEqual(HistoryFormatter.csv(r).split(separator: "\n").count, 6, "CSV keeps every window")
    }
}

/// What a test needs to know of an SVG: it parses as XML, its series groups and heatmap cells.
struct XMLShape {
    var seriesCount = 0
    var classes: [String: Int] = [:]
    var cells: [String: String] = [:]

    init(_ svg: String) throws {
        final class Delegate: NSObject, XMLParserDelegate {
            var shape = XMLShape(empty: ())
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                let cls = attributes["class"] ?? ""
                if name == "g", cls == "series" { shape.seriesCount += 1 }
                if name == "g", cls.hasPrefix("cell "), let s = attributes["data-source"], let t = attributes["data-target"] {
                    shape.cells["\(s) \(t)"] = String(cls.dropFirst(5))
                }
                if !cls.isEmpty { shape.classes[cls, default: 0] += 1 }
            }
        }
        let parser = XMLParser(data: Data(svg.utf8))
        let delegate = Delegate()
        parser.delegate = delegate
        guard parser.parse() else {
            throw NSError(domain: "XMLShape", code: 1, userInfo: [NSLocalizedDescriptionKey: "not XML: \(parser.parserError.map { "\($0)" } ?? "?")"])
        }
        self = delegate.shape
    }

    init(empty: Void) {}
}
