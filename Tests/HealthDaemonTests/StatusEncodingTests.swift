import Foundation
import HTTPSupport
import HealthAPI
@testable import HealthDaemon
import ICMPProbe
import Logging
import NIOCore
import Synchronization
import Testing

/// `GET /v1beta/status` is written node by node: it must stay byte for byte what encoding the whole
/// status with JSONEncoder gives, and follow every change of a result or of the node list.
@Suite struct StatusEncodingTests {
    static func path(_ ip: String, icmp: ConnectivityStatus? = nil, http: ConnectivityStatus? = nil) -> PathStatus {
        PathStatus(ip: ip, icmp: icmp, http: http)
    }

    static let ok = ConnectivityStatus(latency: 123_456, status: "", lastProbed: "2026-12-01T20:00:00Z")
    static let down = ConnectivityStatus(latency: 0, status: "Connection timed out", lastProbed: "2026-12-01T20:00:01Z")

    static func nodes() -> [NodeStatus] {
        [
            NodeStatus(name: "c/node-1", host: AddressesStatus(primaryAddress: path("198.18.0.1", icmp: ok, http: ok),
                                                               secondaryAddresses: [path("fd00::1", icmp: down)]),
                       healthEndpoint: AddressesStatus(primaryAddress: path("198.18.1.1", icmp: ok))),
            // A name with characters JSON escapes, and the envelope's own key inside it.
            NodeStatus(name: #"c/"nodes":[]\node-2"#, host: AddressesStatus(primaryAddress: path("198.18.0.2")),
                       healthEndpoint: nil),
            NodeStatus(name: "c/node-3", host: AddressesStatus(primaryAddress: path("198.18.0.3")), healthEndpoint: nil,
                       nodeState: ["NotReady"], notProbed: true),
        ]
    }

    static func whole(_ local: SelfStatus?, _ nodes: [NodeStatus], interval: String? = "1m25.1s") throws -> Data {
        try JSONResponse.encode(HealthStatusResponse(timestamp: "2026-12-01T20:00:00Z", probeInterval: interval,
                                                     local: local, nodes: nodes))
    }

    static func written(_ local: SelfStatus?, _ nodes: [NodeStatus], interval: String? = "1m25.1s",
                        timestamp: String = "2026-12-01T20:00:00Z") throws -> Data {
        var w = StatusJSONWriter(capacity: 16)
        try w.begin(local: local)
        for (i, node) in nodes.enumerated() { try w.node(node, first: i == 0) }
        try w.end(probeInterval: interval, timestamp: timestamp)
        return Data(w.buffer.readableBytesView)
    }

    @Test func sameBytesAsEncodingTheWholeStatus() throws {
        let local = SelfStatus(name: #"c/"nodes":[]"#)
        for (l, n, i) in [(local, Self.nodes(), "1m25.1s"), (nil, Self.nodes(), nil), (local, [], "10s"), (nil, [], nil),
                          (SelfStatus(name: ""), Self.nodes(), "")]
            as [(SelfStatus?, [NodeStatus], String?)] {
            #expect(try Self.written(l, n, interval: i) == Self.whole(l, n, interval: i))
        }
        // No timestamp: omitted, as the model's encoder omits it.
        #expect(try Self.written(nil, [], interval: nil, timestamp: "")
            == JSONResponse.encode(HealthStatusResponse(timestamp: "", probeInterval: nil, local: nil, nodes: [])))
    }

    /// Every optional present and absent, and strings JSONEncoder escapes (or leaves alone).
    @Test func everyShapeAndEveryCharacterAsJSONEncoderWritesThem() throws {
        let tricky = (0..<0x80).map { String(UnicodeScalar(UInt8($0))) }
            + ["\u{2028}", "é", "😀", "a/b", #"\"#, #"""#, "\u{7F}", "x\u{0}y", "</script>", ""]
        let statuses: [ConnectivityStatus?] = [nil, ConnectivityStatus(), Self.ok, Self.down,
                                               ConnectivityStatus(latency: -5, status: "", lastProbed: nil)]
        var nodes: [NodeStatus] = []
        for (i, text) in tricky.enumerated() {
            let c = ConnectivityStatus(latency: Int64(i), status: text, lastProbed: i % 2 == 0 ? text : nil)
            let p = PathStatus(ip: text, icmp: statuses[i % statuses.count], http: i % 3 == 0 ? c : nil)
            let a = AddressesStatus(primaryAddress: i % 4 == 0 ? nil : p, secondaryAddresses: i % 5 == 0 ? [p, PathStatus(ip: "")] : [])
            nodes.append(NodeStatus(name: text, host: i % 2 == 0 ? a : nil, healthEndpoint: i % 3 == 1 ? a : nil,
                                    nodeState: i % 7 == 0 ? [text, "NotReady"] : (i % 7 == 1 ? [] : nil), notProbed: i % 6 == 0))
        }
        nodes.append(NodeStatus(name: "", host: nil, healthEndpoint: nil))
        for node in nodes {
            #expect(try Self.written(SelfStatus(name: node.name), [node]) == Self.whole(SelfStatus(name: node.name), [node]),
                    "\(node)")
        }
        #expect(try Self.written(nil, nodes) == Self.whole(nil, nodes))
    }

    /// The agent's node list, changed by the test between fetches (a list, not a network part).
    final class ScriptedNodes: NodeSource {
        let diffs: Mutex<[ClusterNodeStatus]>
        init(_ diffs: [ClusterNodeStatus]) { self.diffs = Mutex(diffs) }
        func fetch(clientID: Int64) async throws -> ClusterNodeStatus {
            diffs.withLock { d in d.count > 1 ? d.removeFirst() : d[0] }
        }
    }

    static func node(_ i: Int) -> NodeElement {
        NodeElement(name: "c/node-\(i)", primaryAddress: NodeAddressing(ipv4: NodeAddressingElement(ip: "198.18.0.\(i)"), ipv6: nil),
                    healthEndpointAddress: NodeAddressing(ipv4: NodeAddressingElement(ip: "198.18.1.\(i)"), ipv6: nil))
    }

    /// The real prober (no round is run: results are recorded as a finished probe records them).
    @Test func proberBodyFollowsResultsAndNodeList() async throws {
        let nodes = ScriptedNodes([
            ClusterNodeStatus(clientID: 1, self_: "c/node-1", nodesAdded: (1...3).map(Self.node), nodesRemoved: []),
            ClusterNodeStatus(clientID: 1, self_: "c/node-1", nodesAdded: [Self.node(4)], nodesRemoved: [Self.node(2)]),
            ClusterNodeStatus(clientID: 1, self_: "c/node-1", nodesAdded: [], nodesRemoved: []),
        ])
        let pinger = try ICMPPinger()
        let http = HTTPProbe()
        defer { pinger.close() }
        let prober = HealthProber(source: nodes, pinger: pinger, http: http, interval: try ProbeInterval(ratio: 0.5),
                                  logger: Logger(label: "test"))
        func body() async throws -> Data { Data(try await prober.encodedStatus().readableBytesView) }
        func whole() async throws -> Data { try JSONResponse.encode(await prober.status()) }

        #expect(await prober.refreshNodes())
        let empty = try await body()
        #expect(try await empty == whole())

        await prober.record("198.18.0.3", icmp: Self.ok, started: .now)
        let one = try await body()
        #expect(one != empty)
        #expect(try await one == whole())

        await prober.record("198.18.1.3", http: Self.down, started: .now)
        #expect(try await body() == whole())

        // An older probe's late result does not overwrite.
        await prober.record("198.18.0.3", icmp: Self.down, started: .now - .seconds(60))
        #expect(try await body() == whole())

        // node-2 leaves, node-4 joins.
        #expect(await prober.refreshNodes())
        let changed = try await body()
        #expect(try await changed == whole())
        #expect(!String(decoding: changed, as: UTF8.self).contains("c/node-2"))
        #expect(String(decoding: changed, as: UTF8.self).contains("c/node-4"))
        await http.shutdown()
    }
}
