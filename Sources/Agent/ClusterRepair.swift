import Foundation

/// What `cluster up` finds wrong with a cluster that is already up, and the repair of only that:
/// healthy nodes keep their agents (and their views), and every node keeps the cluster's settings.
struct ClusterRepair {
    let layout: StateLayout
    let spec: ClusterSpec

    enum Finding: Equatable, CustomStringConvertible {
        /// The bridge namespace is gone: every node lost its uplink, so the cluster is rebuilt.
        case bridgeMissing
        case nodeNamespaceMissing(String)
        case agentNotRunning(String)
        case supervisorNotRunning

        var description: String {
            switch self {
            case .bridgeMissing: return "bridge namespace missing"
            case .nodeNamespaceMissing(let node): return "\(node): namespace missing"
            case .agentNotRunning(let node): return "\(node): agent not running"
            case .supervisorNotRunning: return "agent supervisor not running"
            }
        }
    }

    func findings() -> [Finding] {
        guard Netns.exists(layout.bridgeNamespace) else { return [.bridgeMissing] }
        var found: [Finding] = []
        for node in spec.nodes.map(\.name) {
            if !Netns.exists(layout.nodeNamespace(node)) {
                found.append(.nodeNamespaceMissing(node))
            } else if AgentSupervisor.agentPid(node, layout: layout) == nil {
                found.append(.agentNotRunning(node))
            }
        }
        if AgentSupervisor(layout: layout).runningPid == nil { found.append(.supervisorNotRunning) }
        return found
    }

    /// Rebuilds the damaged nodes (namespace, uplink, agent, health endpoint) and returns their names.
    /// The supervisor is stopped meanwhile so it never races this with a restart of its own.
    func repairNodes(_ findings: [Finding]) throws -> [String] {
        let supervisor = AgentSupervisor(layout: layout)
        supervisor.stop()
        var repaired: [String] = []
        for finding in findings {
            switch finding {
            case .nodeNamespaceMissing(let node):
                // Whatever still runs in the node's detached namespace serves nobody: stop it.
                if let pid = AgentSupervisor.agentPid(node, layout: layout) { DetachedProcess.stop(pid, grace: 2) }
                let health = layout.healthNamespace(node)
                for pid in Netns.pids(health) { DetachedProcess.stop(pid, grace: 1) }
                Netns.delete(health)
                guard let spec = spec.node(named: node) else { continue }
                // A namespace only unmounted (`ip netns delete` while a process ran in it) keeps its
                // end of the uplink alive: remove the bridge's end so the node can be plugged in again.
                _ = try? Command.run(["ip", "-n", layout.bridgeNamespace, "link", "del", ClusterNetwork.bridgePort(spec)])
                try ClusterNetwork(layout: layout, spec: self.spec).createNode(spec)
                forgetNeighbour(spec)
                _ = try AgentSupervisor.spawnAgent(node, layout: layout)
                repaired.append(node)
            case .agentNotRunning(let node):
                _ = try AgentSupervisor.spawnAgent(node, layout: layout)
                repaired.append(node)
            case .bridgeMissing, .supervisorNotRunning:
                break
            }
        }
        return repaired
    }

    /// The rebuilt node's eth0 has a new MAC: peers would keep sending to the old one until their
    /// neighbour entry goes stale (about 30 s), so they forget it now.
    private func forgetNeighbour(_ node: ClusterSpec.NodeSpec) {
        for peer in spec.nodes where peer.name != node.name {
            let ns = layout.nodeNamespace(peer.name)
            _ = try? Netns.ip(ns, "neigh", "flush", "to", node.ipv4)
            if let v6 = node.ipv6 { _ = try? Netns.ip(ns, "-6", "neigh", "flush", "to", v6) }
        }
    }
}
