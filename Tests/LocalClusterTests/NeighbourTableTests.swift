@testable import Agent
import Foundation
import XCTest

/// The neighbour-table limits `cluster up` raises: the arithmetic, and the writes against a
/// scratch copy of /proc/sys (the host's own are not touched by this test).
final class NeighbourTableTests: XCTestCase {
    func testSmallClustersLeaveTheDefaultsAndLargeOnesRaiseThem() {
        XCTAssertNil(NeighbourTable.thresholds(needed: NeighbourTable.entries(nodes: 3), current: [128, 512, 1024]), "3 nodes fit")
        XCTAssertNil(NeighbourTable.thresholds(needed: NeighbourTable.entries(nodes: 10), current: [128, 512, 1024]), "10 nodes fit")
        // 20 nodes use ~720 of 1024: raised, so the host and another cluster keep as much again.
        XCTAssertEqual(NeighbourTable.thresholds(needed: NeighbourTable.entries(nodes: 20), current: [128, 512, 1024]), [180, 720, 1440])
        // 100 nodes: 11600 entries, ten times the default limit (what overflowed in bench/scale.sh).
        XCTAssertEqual(NeighbourTable.thresholds(needed: NeighbourTable.entries(nodes: 100), current: [128, 512, 1024]),
                       [2900, 11600, 23200])
        XCTAssertNil(NeighbourTable.thresholds(needed: 11600, current: [4096, 16384, 65536]), "never lowered")
        XCTAssertEqual(NeighbourTable.thresholds(needed: 11600, current: [8000, 512, 1024]), [8000, 11600, 23200])
    }

    func testRaisesEveryThresholdOfEachFamilyAndSaysSo() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("neigh-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for family in ["ipv4", "ipv6"] {
            try FileManager.default.createDirectory(atPath: "\(root)/net/\(family)/neigh/default", withIntermediateDirectories: true)
            for (i, v) in [128, 512, 1024].enumerated() {
                try "\(v)\n".write(toFile: "\(root)/net/\(family)/neigh/default/gc_thresh\(i + 1)", atomically: true, encoding: .utf8)
            }
        }
        var said: [String] = []
        try NeighbourTable(procSys: root).ensureCapacity(nodes: 100, ipv6: false) { said.append($0) }
        func read(_ family: String, _ i: Int) throws -> String {
            try String(contentsOfFile: "\(root)/net/\(family)/neigh/default/gc_thresh\(i)", encoding: .utf8)
        }
        XCTAssertEqual(try [1, 2, 3].map { try read("ipv4", $0) }, ["2900\n", "11600\n", "23200\n"])
        XCTAssertEqual(try read("ipv6", 3), "1024\n", "IPv6 only for IPv6 clusters")
        XCTAssertEqual(said, ["raised net.ipv4.neigh.default.gc_thresh3 1024 → 23200: 100 nodes need about 11600 neighbour entries, "
                              + "and the kernel's table is shared by all namespaces"])
        said = []
        try NeighbourTable(procSys: root).ensureCapacity(nodes: 100, ipv6: false) { said.append($0) }
        XCTAssertEqual(said, [], "already enough: nothing written, nothing said")
    }
}
