import ConnTest

/// Service addresses for egress policy. tc ingress on a client's host veth sees a packet before
/// the node's nftables DNAT, so an egress rule for a Service's backend pod IP would not match
/// traffic to the Service: every egress rule naming a backend pod (/32, /128) on its target port
/// also allows each address that DNATs to it (the ClusterIP on the service port, every node IP on
/// the NodePort, the pod's node IP on a hostPort), as Cilium's socket/tc load-balancing translates
/// before policy. Ingress needs no expansion: the server's veth sees the packet after DNAT, with
/// the client's pod IP (or, for a NodePort via another node, that node's IP) as source.
public struct ServicePaths: Sendable, Equatable {
    /// Every distinct translation (address, port, protocol -> backend) of every node.
    public private(set) var paths: [ServiceProxy.Rule] = []

    /// `rulesByNode`: each node's DNAT rules (the masquerade flag differs per node, the policy does not).
    public init(rulesByNode: [String: [ServiceProxy.Rule]]) {
        for node in rulesByNode.keys.sorted() {
            for rule in rulesByNode[node] ?? [] where !paths.contains(where: { $0.sameTranslation(as: rule) }) {
                paths.append(rule)
            }
        }
    }

    /// `rules` plus the Service addresses of every egress rule that allows a Service backend's target port.
    public func expand(_ rules: [PolicyRuleSpec]) -> [PolicyRuleSpec] {
        var out = Set(rules)
        for rule in rules where rule.direction == .egress {
            for path in paths {
                let hostBits = path.isIPv6 ? 128 : 32
                let proto: PolicyL4Protocol = path.proto.uppercased() == "UDP" ? .udp : .tcp
                guard rule.cidr == "\(path.backend)/\(hostBits)", rule.proto == .any || rule.proto == proto,
                      rule.port == 0 || Int(rule.port) == path.backendPort,
                      let port = UInt16(exactly: path.port) else { continue }
                out.insert(PolicyRuleSpec(direction: .egress, cidr: "\(path.daddr)/\(hostBits)", proto: proto, port: port))
            }
        }
        return out.sorted()
    }
}

extension ServiceProxy.Rule {
    /// Same address, port and backend.
    func sameTranslation(as other: ServiceProxy.Rule) -> Bool {
        daddr == other.daddr && port == other.port && proto == other.proto && backend == other.backend
            && backendPort == other.backendPort
    }
}
