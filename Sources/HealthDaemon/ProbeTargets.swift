import HealthAPI

/// Which of a node's addresses a path belongs to.
public enum PathRole: Sendable, Hashable {
    case host
    case healthEndpoint
}

/// The addresses to probe for one node: primary first (IPv4 when enabled, else IPv6), then secondaries.
public struct NodeProbeTargets: Sendable, Equatable {
    public var name: String
    public var host: [String]
    public var healthEndpoint: [String]
    /// The node's Kubernetes state (NotReady, Unschedulable); empty when it is Ready and schedulable.
    public var state: [String]
    /// Listed with its state but not probed: a cordoned or NotReady node is not counted unreachable.
    public var notProbed: Bool

    /// The addresses to probe (none for a node that is not probed).
    public var allIPs: [String] { notProbed ? [] : host + healthEndpoint }

    /// `probeUnavailable` probes nodes whose state is not empty too.
    public init(_ node: NodeElement, probeUnavailable: Bool = false) {
        name = node.name
        host = Self.ordered(node.primaryAddress, extra: node.secondaryAddresses ?? [])
        healthEndpoint = Self.ordered(node.healthEndpointAddress, extra: [])
        state = node.nodeState ?? []
        notProbed = !state.isEmpty && !probeUnavailable
    }

    /// Upstream skips nil, disabled, "<nil>" and unparsable addresses.
    static func usable(_ e: NodeAddressingElement?) -> String? {
        guard let e, e.enabled ?? true, let ip = e.ip, ip != "<nil>", IPAddressText.isValid(ip) else { return nil }
        return ip
    }

    static func ordered(_ addressing: NodeAddressing?, extra: [NodeAddressingElement]) -> [String] {
        var out: [String] = []
        for candidate in [usable(addressing?.ipv4), usable(addressing?.ipv6)] + extra.map(usable) {
            if let ip = candidate, !out.contains(ip) { out.append(ip) }
        }
        return out
    }
}
