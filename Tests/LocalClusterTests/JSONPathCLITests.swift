import Agent
import Foundation
import HealthAPI
import XCTest

/// `cilium-health -o jsonpath=…` against a real health API, as a user runs it inside a node.
final class JSONPathCLITests: XCTestCase {
    func testJSONPathOutputOnALiveCluster() throws {
        let cluster = try ClusterFixture(nodes: 2)
        defer { cluster.down() }
        // The daemon lists every node from its first round; wait until both are there.
        let deadline = Date().addingTimeInterval(15)
        var status = try cluster.status()
        while Date() < deadline, status.nodes.count < 2 || status.nodes.contains(where: { $0.host?.primaryAddress == nil }) {
            Thread.sleep(forTimeInterval: 0.5)
            status = try cluster.status()
        }
        XCTAssertEqual(status.nodes.count, 2)

        // Arguments go through exec unquoted, exactly as a shell passes jsonpath='{…}'.
        let table = try cluster.ciliumHealth("node-1", [
            "status", "-o", #"jsonpath={range .nodes[*]}{.name}{"\t"}{.host.primary-address.ip}{"\n"}{end}"#,
        ])
        XCTAssertEqual(table.status, 0, table.stderr)
        let expected = status.nodes.map { "\($0.name)\t\($0.host?.primaryAddress?.ip ?? "")\n" }.joined()
        XCTAssertEqual(table.stdout, expected + "\n")  // upstream's Println adds a newline
        XCTAssertEqual(expected, "\(cluster.name)/node-1\t198.18.0.11\n\(cluster.name)/node-2\t198.18.0.12\n")

        let filtered = try cluster.ciliumHealth("node-1", [
            "status", "-o", "jsonpath={.nodes[?(@.name==\"\(cluster.name)/node-2\")].health-endpoint.primary-address.ip}",
        ])
        XCTAssertEqual(filtered.stdout, "198.19.2.2\n", filtered.stderr)

        // node-2's daemon may still be in its first round: give it the same bounded wait.
        var local = try cluster.ciliumHealth("node-2", ["status", "-o", "jsonpath={.local.name}{.no.such.key}"])
        while Date() < deadline.addingTimeInterval(15), local.stdout == "\n" {
            Thread.sleep(forTimeInterval: 0.5)
            local = try cluster.ciliumHealth("node-2", ["status", "-o", "jsonpath={.local.name}{.no.such.key}"])
        }
        XCTAssertEqual(local.stdout, "\(cluster.name)/node-2\n", local.stderr)

        let uptime = try cluster.ciliumHealth("node-1", ["get", "-o", "jsonpath={.uptime}"])
        XCTAssertEqual(uptime.status, 0, uptime.stderr)
        XCTAssertTrue(uptime.stdout.hasSuffix("s\n") && !uptime.stdout.contains("{"), uptime.stdout)

        // An empty template is upstream's plain JSON output.
        let plain = try cluster.ciliumHealth("node-1", ["get", "-o", "jsonpath="])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stdout.hasPrefix("{\n  \"cilium\": {") && plain.stdout.hasSuffix("}\n\n"), plain.stdout)

        // Bad templates: upstream's stderr line (plus where), exit 1, nothing on stdout.
        let bad = try cluster.ciliumHealth("node-1", ["status", "-o", "jsonpath={.nodes[*"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.stdout, "")
        XCTAssertEqual(bad.stderr, "Couldn't parse jsonpath expression: 'unterminated array'\n(at character 8 of the template)\n")
        let outOfRange = try cluster.ciliumHealth("node-1", ["status", "-o", "jsonpath={.nodes[5].name}"])
        XCTAssertEqual(outOfRange.status, 1)
        XCTAssertEqual(outOfRange.stdout, "")
        XCTAssertEqual(outOfRange.stderr, "Couldn't parse jsonpath expression: 'array index out of bounds: index 5, length 2'\n")

        // An unknown format stays a usage error.
        let unknown = try cluster.ciliumHealth("node-1", ["status", "-o", "jsonpath"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertEqual(unknown.stderr, "Error: The value 'jsonpath' is invalid for '-o <format>'\n")
    }
}
