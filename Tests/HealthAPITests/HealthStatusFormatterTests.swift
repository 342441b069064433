import Testing
import Foundation
@testable import HealthAPI

struct HealthStatusFormatterTests {
    // MARK: upstream pkg/health/client/testdata goldens (unaligned text)

    @Test func upstreamOneUnhealthyAllNodes() {
        let nodes = (0..<4).map { Fixture.upstreamNode($0, healthy: $0 != 3) }
        let text = HealthStatusFormatter.formatUnaligned(Fixture.upstreamResponse(nodes, interval: "8m5s"),
                                                         verbose: false, allNodes: true)
        #expect(text == """
            Cluster health:\t3/4 reachable\t(2023-04-01T12:00:00Z)\t(Probe interval: 8m5s)
            Name\tIP\tNode\tEndpoints
              node0\t192.168.1.0\t1/1\t1/1
              node1\t192.168.1.1\t1/1\t1/1
              node2\t192.168.1.2\t1/1\t1/1
              node3\t192.168.1.3\t0/1\t0/1

            """)
    }

    @Test func upstreamOneUnhealthyOnlyUnhealthyRows() {
        let nodes = (0..<4).map { Fixture.upstreamNode($0, healthy: $0 != 3) }
        let text = HealthStatusFormatter.formatUnaligned(Fixture.upstreamResponse(nodes, interval: "8m5s"),
                                                         verbose: false, allNodes: false)
        #expect(text == """
            Cluster health:\t3/4 reachable\t(2023-04-01T12:00:00Z)\t(Probe interval: 8m5s)
            Name\tIP\tNode\tEndpoints
              node3\t192.168.1.3\t0/1\t0/1

            """)
    }

    @Test func upstreamElevenHealthyAllNodesMaxTen() {
        let nodes = (0..<11).map { Fixture.upstreamNode($0, healthy: true) }
        let text = HealthStatusFormatter.formatUnaligned(Fixture.upstreamResponse(nodes, interval: "4m15s"),
                                                         verbose: false, allNodes: true, maxLines: 10)
        let rows = [0, 1, 10, 2, 3, 4, 5, 6, 7, 8].map { "  node\($0)\t192.168.1.\($0)\t1/1\t1/1\n" }.joined()
        #expect(text == "Cluster health:\t11/11 reachable\t(2023-04-01T12:00:00Z)\t(Probe interval: 4m15s)\n"
            + "Name\tIP\tNode\tEndpoints\n" + rows)
    }

    @Test func upstreamElevenUnhealthyMaxTenPrintsEllipsis() {
        // This golden predates the probe interval; without one we print no interval cell.
        let nodes = (0..<11).map { Fixture.upstreamNode($0, healthy: false) }
        let text = HealthStatusFormatter.formatUnaligned(Fixture.upstreamResponse(nodes, interval: nil),
                                                         verbose: false, allNodes: false, maxLines: 10)
        let rows = [0, 1, 10, 2, 3, 4, 5, 6, 7, 8].map { "  node\($0)\t192.168.1.\($0)\t0/1\t0/1\n" }.joined()
        #expect(text == "Cluster health:\t0/11 reachable\t(2023-04-01T12:00:00Z)\n"
            + "Name\tIP\tNode\tEndpoints\n" + rows + "  ...\n")
    }

    @Test func upstreamAllHealthyVerbose() {
        let nodes = (0..<4).map { Fixture.upstreamNode($0, healthy: true, probed: true) }
        let text = HealthStatusFormatter.formatUnaligned(Fixture.upstreamResponse(nodes, interval: "1m14s"),
                                                         verbose: true)
        let blocks = (0..<4).map { i in
            """
              node\(i):
                Host connectivity to 192.168.1.\(i):
                  ICMP to stack:\tOK, RTT=10ms\t(Last probed: 2023-04-01T12:35:00Z)
                  HTTP to agent:\tOK, RTT=10ms\t(Last probed: 2023-04-01T12:30:00Z)
                Endpoint connectivity to 192.168.1.\(i):
                  ICMP to stack:\tOK, RTT=10ms\t(Last probed: 2023-04-01T12:45:00Z)
                  HTTP to agent:\tOK, RTT=10ms\t(Last probed: 2023-04-01T12:40:00Z)

            """
        }.joined()
        #expect(text == "Cluster health:\t4/4 reachable\t(2023-04-01T12:00:00Z)\t(Probe interval: 1m14s)\n"
            + "Name\tIP\tNode\tEndpoints\n" + blocks)
    }

    @Test func upstreamOneUnhealthyVerboseWithoutLastProbed() {
        let nodes = (0..<4).map { Fixture.upstreamNode($0, healthy: $0 != 3) }
        let text = HealthStatusFormatter.formatUnaligned(Fixture.upstreamResponse(nodes, interval: "8m5s"),
                                                         verbose: true)
        #expect(text.hasSuffix("""
              node3:
                Host connectivity to 192.168.1.3:
                  ICMP to stack:\tfailed
                  HTTP to agent:\tfailed
                Endpoint connectivity to 192.168.1.3:
                  ICMP to stack:\tfailed
                  HTTP to agent:\tfailed

            """))
        #expect(text.hasPrefix("Cluster health:\t3/4 reachable\t(2023-04-01T12:00:00Z)\t(Probe interval: 8m5s)\n"))
    }

    // MARK: aligned output

    /// Spec §5 / a real 1.17 `cilium-health status --verbose` (the second node's endpoint block
    /// is completed by hand: each block between one-cell lines aligns on its own).
    @Test func verboseAligned() {
        let response = HealthStatusResponse(
            timestamp: "2025-08-03T14:23:55Z", probeInterval: "1m36.566274746s",
            local: SelfStatus(name: "k8s-worker-n1"),
            nodes: [
                Fixture.node("k8s-master-n1",
                             host: Fixture.path("91.217.196.189", icmp: Fixture.ok(598_403, probed: "2025-08-03T14:23:07Z"),
                                                http: Fixture.ok(1_996_945, probed: "2025-08-03T14:23:07Z")),
                             endpoint: Fixture.path("10.0.0.203",
                                                    icmp: Fixture.failed("Connection timed out", probed: "2025-08-03T14:23:30Z"),
                                                    http: Fixture.ok(511_428, probed: "2025-08-03T14:23:30Z"))),
                Fixture.node("k8s-worker-n1",
                             host: Fixture.path("91.217.196.183", icmp: Fixture.ok(152_724, probed: "2025-08-03T14:23:55Z"),
                                                http: Fixture.ok(782_048, probed: "2025-08-03T14:23:55Z")),
                             endpoint: Fixture.path("10.0.1.237", icmp: Fixture.ok(359_454, probed: "2025-08-03T14:22:43Z"),
                                                    http: Fixture.ok(1_816_261, probed: "2025-08-03T14:22:43Z"))),
            ])
        let expected = """
            Cluster health:   1/2 reachable   (2025-08-03T14:23:55Z)   (Probe interval: 1m36.566274746s)
            Name              IP              Node                     Endpoints
              k8s-worker-n1 (localhost):
                Host connectivity to 91.217.196.183:
                  ICMP to stack:   OK, RTT=152.724µs   (Last probed: 2025-08-03T14:23:55Z)
                  HTTP to agent:   OK, RTT=782.048µs   (Last probed: 2025-08-03T14:23:55Z)
                Endpoint connectivity to 10.0.1.237:
                  ICMP to stack:   OK, RTT=359.454µs    (Last probed: 2025-08-03T14:22:43Z)
                  HTTP to agent:   OK, RTT=1.816261ms   (Last probed: 2025-08-03T14:22:43Z)
              k8s-master-n1:
                Host connectivity to 91.217.196.189:
                  ICMP to stack:   OK, RTT=598.403µs    (Last probed: 2025-08-03T14:23:07Z)
                  HTTP to agent:   OK, RTT=1.996945ms   (Last probed: 2025-08-03T14:23:07Z)
                Endpoint connectivity to 10.0.0.203:
                  ICMP to stack:   Connection timed out   (Last probed: 2025-08-03T14:23:30Z)
                  HTTP to agent:   OK, RTT=511.428µs      (Last probed: 2025-08-03T14:23:30Z)

            """
        #expect(HealthStatusFormatter.format(response, verbose: true) == expected)
    }

    /// Localhost first, `Unavailable`, unknown counts and dual-stack IP lists.
    @Test func tableEdgeCasesAligned() {
        let response = HealthStatusResponse(
            timestamp: "2025-01-01T00:00:00Z", probeInterval: "1m0s", local: SelfStatus(name: "z-local"),
            nodes: [
                Fixture.node("b-node",
                             host: Fixture.path("198.18.0.11", icmp: Fixture.ok(1), http: Fixture.ok(1)),
                             hostSecondaries: [Fixture.path("fd00:198::11", icmp: Fixture.ok(1), http: Fixture.ok(1))],
                             endpoint: Fixture.path("10.1.0.5", icmp: Fixture.ok(1), http: Fixture.ok(1)),
                             endpointSecondaries: [Fixture.path("fd00:10:1::5", icmp: nil, http: nil)]),
                NodeStatus(name: "a-node", host: nil, healthEndpoint: nil),
                NodeStatus(name: "z-local",
                           host: AddressesStatus(primaryAddress: Fixture.path("10.0.0.1", icmp: Fixture.ok(1), http: nil)),
                           healthEndpoint: nil),
            ])
        // Column widths: 21+3=24 ("  z-local (localhost)"), 24+3=27 (the dual-stack IPs),
        // 22+3=25 (the timestamp cell).
        let expected = cell("Cluster health:", 24) + cell("3/3 reachable", 27) + cell("(2025-01-01T00:00:00Z)", 25)
            + "(Probe interval: 1m0s)\n"
            + cell("Name", 24) + cell("IP", 27) + cell("Node", 25) + "Endpoints\n"
            + cell("  z-local (localhost)", 24) + cell("10.0.0.1", 27) + cell("0/1 (1 unknown)", 25) + "0/0\n"
            + cell("  a-node", 24) + cell("Unavailable", 27) + cell("0/0", 25) + "0/0\n"
            + cell("  b-node", 24) + cell("198.18.0.11,fd00:198::11", 27) + cell("2/2", 25) + "1/2 (1 unknown)\n"
        #expect(HealthStatusFormatter.format(response, verbose: false) == expected)
        #expect(expected.hasPrefix("Cluster health:         3/3 reachable              (2025"))
    }

    @Test func primaryMissingButSecondariesPresent() {
        let node = NodeStatus(name: "n", host: AddressesStatus(primaryAddress: nil, secondaryAddresses: [
            Fixture.path("fd00::1", icmp: Fixture.ok(1), http: Fixture.ok(1)),
        ]), healthEndpoint: nil)
        let text = HealthStatusFormatter.formatUnaligned(
            HealthStatusResponse(timestamp: "t", probeInterval: nil, local: nil, nodes: [node]), verbose: false)
        #expect(text == "Cluster health:\t0/1 reachable\t(t)\nName\tIP\tNode\tEndpoints\n  n\tUnavailable,fd00::1\t1/2\t0/0\n")
    }

    @Test func ellipsisWhenUnhealthyRowsWereCut() {
        let nodes = (0..<3).map { Fixture.upstreamNode($0, healthy: false) }
        let text = HealthStatusFormatter.format(Fixture.upstreamResponse(nodes, interval: nil), verbose: false,
                                                allNodes: false, maxLines: 2)
        let expected = cell("Cluster health:", 18) + cell("0/3 reachable", 16) + "(2023-04-01T12:00:00Z)\n"
            + cell("Name", 18) + cell("IP", 16) + cell("Node", 7) + "Endpoints\n"
            + cell("  node0", 18) + cell("192.168.1.0", 16) + cell("0/1", 7) + "0/1\n"
            + cell("  node1", 18) + cell("192.168.1.1", 16) + cell("0/1", 7) + "0/1\n"
            + "  ...\n"
        #expect(text == expected)
    }

    /// Upstream checks `printed == maxLines`: with no localhost, 0 prints no rows at all.
    @Test func maxLinesZeroQuirk() {
        let nodes = (0..<2).map { Fixture.upstreamNode($0, healthy: false) }
        let text = HealthStatusFormatter.formatUnaligned(Fixture.upstreamResponse(nodes, interval: nil),
                                                         verbose: false, allNodes: true, maxLines: 0)
        #expect(text == "Cluster health:\t0/2 reachable\t(2023-04-01T12:00:00Z)\nName\tIP\tNode\tEndpoints\n  ...\n")
    }

    @Test func headerPrintedWhenAllHealthyAndNoRows() {
        let nodes = (0..<2).map { Fixture.upstreamNode($0, healthy: true) }
        let text = HealthStatusFormatter.formatUnaligned(Fixture.upstreamResponse(nodes, interval: "1m"),
                                                         verbose: false, allNodes: false)
        #expect(text == "Cluster health:\t2/2 reachable\t(2023-04-01T12:00:00Z)\t(Probe interval: 1m)\nName\tIP\tNode\tEndpoints\n")
    }

    @Test func verboseNilPathsAndSecondaries() {
        let node = NodeStatus(name: "n1", host: nil, healthEndpoint: nil)
        let dual = Fixture.node("n2", host: Fixture.path("198.18.0.11", icmp: nil, http: Fixture.ok(2_000)),
                                hostSecondaries: [Fixture.path("fd00:198::11", icmp: Fixture.failed("Connection timed out"), http: nil)],
                                endpoint: nil,
                                endpointSecondaries: [Fixture.path("fd00:10::2", icmp: Fixture.ok(3_000), http: nil)])
        let text = HealthStatusFormatter.formatUnaligned(
            HealthStatusResponse(timestamp: "t", probeInterval: nil, local: nil, nodes: [node, dual]), verbose: true)
        #expect(text == """
            Cluster health:\t1/2 reachable\t(t)
            Name\tIP\tNode\tEndpoints
              n1:
                Host connectivity:\tnil
                Endpoint connectivity:\tnil
              n2:
                Host connectivity to 198.18.0.11:
                  HTTP to agent:\tOK, RTT=2µs
                Secondary Host connectivity to fd00:198::11:
                  ICMP to stack:\tConnection timed out
                Endpoint connectivity:\tnil
                Secondary Endpoint connectivity to fd00:10::2:
                  ICMP to stack:\tOK, RTT=3µs

            """)
        // Consecutive nil lines align together: max(22, 26) + 3 = 29.
        let aligned = HealthStatusFormatter.format(
            HealthStatusResponse(timestamp: "t", probeInterval: nil, local: nil, nodes: [node]), verbose: true)
        #expect(aligned.hasSuffix("  n1:\n" + cell("    Host connectivity:", 29) + "nil\n"
            + cell("    Endpoint connectivity:", 29) + "nil\n"))
    }

    @Test func emptyNodeList() {
        let text = HealthStatusFormatter.format(
            HealthStatusResponse(timestamp: "2025-01-01T00:00:00Z", probeInterval: "41.588830833s", local: nil, nodes: []),
            verbose: false)
        #expect(text == cell("Cluster health:", 18) + cell("0/0 reachable", 16) + cell("(2025-01-01T00:00:00Z)", 25)
            + "(Probe interval: 41.588830833s)\n" + cell("Name", 18) + cell("IP", 16) + cell("Node", 25) + "Endpoints\n")
    }
}

/// Nodes the agent reports NotReady or cordoned are listed with their state and counted neither way.
@Suite struct NotProbedNodeTests {
    let up = Fixture.node("c/node-1", host: Fixture.path("198.18.0.11", icmp: Fixture.ok(1), http: Fixture.ok(1)),
                          endpoint: Fixture.path("198.19.1.100", icmp: Fixture.ok(1), http: Fixture.ok(1)))
    let cordoned = NodeStatus(name: "c/node-3", host: AddressesStatus(primaryAddress: PathStatus(ip: "198.18.0.13")),
                              healthEndpoint: nil, nodeState: ["Unschedulable"], notProbed: true)

    @Test func tableCountsOnlyProbedNodes() {
        let response = HealthStatusResponse(timestamp: "t", probeInterval: nil, local: SelfStatus(name: "c/node-1"),
                                            nodes: [up, cordoned])
        let text = HealthStatusFormatter.formatUnaligned(response, verbose: false)
        #expect(text.hasPrefix("Cluster health:\t1/1 reachable\t(t)\t(1 not probed: cordoned or NotReady)\n"))
        #expect(text.contains("  c/node-3\t198.18.0.13\tUnschedulable\tnot probed\n"))
        #expect(!HealthStatusFormatter.formatUnaligned(response, verbose: false, allNodes: false).contains("node-3"),
                "not unhealthy, so not among the failing rows")
        let verbose = HealthStatusFormatter.formatUnaligned(response, verbose: true)
        #expect(verbose.contains("  c/node-3:\n    Not probed:\tUnschedulable\n"))
    }

    @Test func probedAnywayShowsTheStateInTheName() {
        var probed = up
        probed.nodeState = ["NotReady"]
        let text = HealthStatusFormatter.formatUnaligned(
            HealthStatusResponse(timestamp: "t", probeInterval: nil, local: nil, nodes: [probed]), verbose: false)
        #expect(text.contains("  c/node-1 (NotReady)\t198.18.0.11\t1/1\t1/1\n"))
        #expect(text.hasPrefix("Cluster health:\t1/1 reachable\t(t)\n"))
    }

    @Test func jsonCarriesTheStateOnlyWhenSet() throws {
        let json = String(decoding: try JSONEncoder().encode(cordoned), as: UTF8.self)
        #expect(json.contains(#""node-state":["Unschedulable"]"#) && json.contains(#""not-probed":true"#))
        #expect(!String(decoding: try JSONEncoder().encode(up), as: UTF8.self).contains("not-probed"))
        #expect(try JSONDecoder().decode(NodeStatus.self, from: Data(json.utf8)) == cordoned)
    }
}
