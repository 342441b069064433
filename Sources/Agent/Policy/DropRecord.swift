import Datapath
import Foundation
import HealthAPI
import HealthDaemon

/// One policy drop as the agent streams it (`GET /v1/monitor/drops`, one JSON object per line):
/// the packet, the pods (`namespace/name`) and Service its addresses belong to when known, and
/// the `cilium monitor` style line.
public struct DropRecord: Codable, Sendable, Equatable {
    /// RFC 3339 with nanoseconds, UTC.
    public var time: String
    public var node: String
    /// `egress` (dropped leaving the source pod) or `ingress` (dropped entering the destination pod).
    public var direction: String
    public var reason: String
    /// `tcp`, `udp`, `icmp`, `icmpv6` or `proto-N`.
    public var proto: String
    public var sourceIP: String
    public var destinationIP: String
    /// nil for protocols without ports.
    public var sourcePort: Int?
    public var destinationPort: Int?
    public var sourcePod: String?
    public var destinationPod: String?
    /// The Service whose ClusterIP (or NodePort address) the packet was sent to, before translation.
    public var destinationService: String?
    /// The datapath's endpoint id and the host veth's ifindex on the node.
    public var endpoint: UInt32
    public var ifindex: UInt32
    /// `xx drop (Policy denied) flow egress from endpoint 3, ifindex 7: 198.19.1.100:40112 -> 198.18.128.10:8080 tcp (ns/client -> ns/echo-a)`.
    public var summary: String

    public init(time: String, node: String, direction: String, reason: String, proto: String, sourceIP: String,
                destinationIP: String, sourcePort: Int?, destinationPort: Int?, sourcePod: String?, destinationPod: String?,
                destinationService: String?, endpoint: UInt32, ifindex: UInt32, summary: String) {
        self.time = time
        self.node = node
        self.direction = direction
        self.reason = reason
        self.proto = proto
        self.sourceIP = sourceIP
        self.destinationIP = destinationIP
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sourcePod = sourcePod
        self.destinationPod = destinationPod
        self.destinationService = destinationService
        self.endpoint = endpoint
        self.ifindex = ifindex
        self.summary = summary
    }

    /// `event.timestampNs` is CLOCK_MONOTONIC; `monotonicNow`/`wallNow` translate it to wall time.
    init(_ event: DropEvent, node: String, names: DropNames, monotonicNow: UInt64, wallNow: Date) {
        let age = Double(monotonicNow &- min(event.timestampNs, monotonicNow)) / 1e9
        let ported = event.proto == 6 || event.proto == 17
        // The endpoint that dropped is the sender for egress and the receiver for ingress.
        let endpointPod = names.endpoints[event.endpoint]
        let egress = event.direction == .egress
        let source = names.pods[event.source] ?? (egress ? endpointPod : nil)
        let service = names.services[event.destination]
        let destinationPod = names.pods[event.destination] ?? (egress ? nil : endpointPod)
        self.init(time: RFC3339.nanoString(wallNow.addingTimeInterval(-age)), node: node, direction: event.direction.description,
                  reason: event.reason, proto: event.protocolName, sourceIP: event.source, destinationIP: event.destination,
                  sourcePort: ported ? Int(event.sourcePort) : nil, destinationPort: ported ? Int(event.destinationPort) : nil,
                  sourcePod: source, destinationPod: destinationPod, destinationService: service,
                  endpoint: event.endpoint, ifindex: event.ifindex,
                  summary: event.description + " (\(source ?? "?") -> \(service ?? destinationPod ?? "?"))")
    }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// IP -> `namespace/name` of every pod and Service the policy role last listed.
struct DropNames: Sendable, Equatable {
    var pods: [String: String] = [:]
    var services: [String: String] = [:]
    /// Datapath endpoint id -> `namespace/name` of its pod on this node.
    var endpoints: [UInt32: String] = [:]
}
