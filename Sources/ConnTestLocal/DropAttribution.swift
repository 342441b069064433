import Datapath

/// A drop event with the workload names it concerns: the pod that sent the packet (found by
/// source IP, so egress and ingress drops both count for the client) and the pod or Service the
/// destination IP belongs to.
public struct AttributedDrop: Sendable, CustomStringConvertible {
    public var event: DropEvent
    public var sourcePod: String?
    public var destinationName: String?

    /// `xx drop (Policy denied) flow egress … tcp (pod-to-a-denied-cnp -> echo-a)`.
    public var description: String {
        event.description + " (\(sourcePod ?? "?") -> \(destinationName ?? "?"))"
    }
}

/// IP -> pod/Service names of one run.
struct DropAttribution: Sendable {
    private var pods: [String: String] = [:]
    private var services: [String: String] = [:]

    init(plan: EnforcementPlan) {
        for ep in plan.endpoints {
            pods[ep.ipv4] = ep.pod
            if let v6 = ep.ipv6 { pods[v6] = ep.pod }
        }
        for (name, ip) in plan.clusterIPs { services[ip] = name }
    }

    func attribute(_ e: DropEvent) -> AttributedDrop {
        AttributedDrop(event: e, sourcePod: pods[e.source], destinationName: services[e.destination] ?? pods[e.destination])
    }
}
