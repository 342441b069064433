import Agent
import ConnTest

/// Where each scheduled pod is reachable: hostNetwork pods share their node's IPs, other pods get
/// `<node pod range>.10+k` in workload order (.1 is the router, .2 the health endpoint, .3 the
/// node's DNS pod), and on a dual-stack cluster also `<node IPv6 pod range>::(10+k)` (the same
/// digits, read as hex).
public struct PodAddressPlan: Sendable, Equatable {
    public struct Address: Sendable, Equatable {
        public var node: String
        public var ipv4: String
        public var ipv6: String?
        public var hostNetwork: Bool

        public func ip(_ family: RunIPFamily) -> String? { family == .ipv4 ? ipv4 : ipv6 }
    }

    public static let dnsHostOctet = 3
    public static let firstPodOctet = 10

    /// A cluster DNS replica: one per node, so a node cut off from the others still resolves
    /// (node-local DNS; a pod's resolv.conf names its own node's replica).
    public struct DNSPod: Sendable, Equatable {
        public var name: String
        public var node: String
        public var ipv4: String
        public var ipv6: String?

        public func ip(_ family: RunIPFamily) -> String? { family == .ipv4 ? ipv4 : ipv6 }
    }

    public var pods: [String: Address]
    /// In node order.
    public var dnsPods: [DNSPod]

    public init(plan: RunPlan, cluster: ClusterSpec) throws {
        guard !cluster.nodes.isEmpty else { throw AgentError("cluster has no nodes") }
        dnsPods = cluster.nodes.map { node in
            DNSPod(name: ClusterDNS.podName(node: node.name), node: node.name, ipv4: node.podIPv4(host: Self.dnsHostOctet),
                   ipv6: node.podIPv6(host: Self.dnsHostOctet))
        }
        var next: [String: Int] = [:]
        var pods: [String: Address] = [:]
        for d in plan.workload.all {
            guard let nodeName = plan.schedule.placement(of: d.name)?.nodeName else { continue }
            guard let node = cluster.node(named: nodeName) else {
                throw AgentError("\(d.name) is scheduled on \(nodeName), which cluster '\(cluster.name)' does not have")
            }
            if d.hostNetwork {
                pods[d.name] = Address(node: nodeName, ipv4: node.ipv4, ipv6: node.ipv6, hostNetwork: true)
                continue
            }
            let octet = next[nodeName, default: Self.firstPodOctet]
            guard octet < 255 else { throw AgentError("node \(nodeName): pod range exhausted") }
            next[nodeName] = octet + 1
            pods[d.name] = Address(node: nodeName, ipv4: node.podIPv4(host: octet),
                                   ipv6: node.podIPv6(host: octet), hostNetwork: false)
        }
        self.pods = pods
    }

    /// The DNS replica pods on `node` use.
    public func dnsIP(onNode node: String, family: RunIPFamily = .ipv4) -> String? {
        dnsPods.first { $0.node == node }?.ip(family)
    }

    /// `fd00:199:0:i::` from the IPv6 pod range (a /64), or nil on an IPv4-only cluster.
}
