/// cilium-cli's `cilium-health` scenario verdict on one node's `status --probe` answer: every
/// expected node listed, and every probed status (host and health endpoint, primary and
/// secondary addresses, ICMP and HTTP) empty. A status that was never probed counts as empty,
/// as cilium-cli's JSONPath with missing keys allowed reads it; a node Kubernetes reads NotReady
/// (listed by our agents without statuses) does not pass.
public enum HealthStatusValidation {
    /// Problems in cilium-cli's wording, worst first; empty means the node passes.
    public static func problems(_ status: HealthStatusResponse, expectedNodes: Int) -> [String] {
        var problems: [String] = []
        if status.nodes.count < expectedNodes {
            let names = status.nodes.map(\.name).joined(separator: " ")
            problems.append("only \(status.nodes.count)/\(expectedNodes) nodes appeared in cilium-health status. nodes = '[\(names)]'")
        }
        for node in status.nodes {
            // Not upstream: a node the agent left out of probing because Kubernetes reads it NotReady
            // has no statuses to judge, and is not healthy; a cordoned (Unschedulable) one is fine.
            if node.nodeState?.contains("NotReady") == true {
                problems.append("node '\(node.name)' is NotReady in Kubernetes (not probed)")
            }
            func check(_ kind: String, _ addresses: AddressesStatus?) {
                guard let addresses else { return }
                let paths = [("primary-address", addresses.primaryAddress)]
                    + addresses.secondaryAddresses.map { ("secondary-addresses", Optional($0)) }
                for (slot, path) in paths {
                    for (proto, result) in [("icmp", path?.icmp), ("http", path?.http)] {
                        if let text = result?.status, !text.isEmpty {
                            problems.append("connectivity to path '\(node.name).\(kind).\(slot).\(proto).status' is unhealthy: '\(text)'")
                        }
                    }
                }
            }
            check("host", node.host)
            check("health-endpoint", node.healthEndpoint)
        }
        return problems
    }
}
