/// A deterministic stand-in for kube-scheduler over nodes `node-1…node-N`,
/// honouring required pod (anti-)affinity on kubernetes.io/hostname and host
/// port conflicts. Unconstrained pods are spread round-robin so a run on N
/// nodes exercises cross-node paths the way a real cluster would.
public struct PodScheduler: Sendable {
    public let nodes: [String]

    public init(nodeCount: Int) throws {
        guard nodeCount >= 1 else { throw ConnTestError("invalid node count \(nodeCount): must be at least 1") }
        nodes = (1...nodeCount).map { "node-\($0)" }
    }

    private struct Placed {
        var pod: WorkloadDeployment
        var node: String
    }

    /// Places pods in the given order, deferring pods whose affinity targets are
    /// not placed yet (so order in the file does not matter), then fails what is left.
    public func schedule(_ pods: [WorkloadDeployment]) -> Schedule {
        var placed: [Placed] = []
        var placements: [String: PodPlacement] = [:]
        var cursor = 0
        var remaining = pods
        var progress = true
        while progress && !remaining.isEmpty {
            progress = false
            var deferred: [WorkloadDeployment] = []
            for pod in remaining {
                // Wait for the pods an affinity term points at, if any of them is still to come.
                let waitsOnUnplaced = pod.affinity.contains { term in
                    term.kind == .affinity && !placed.contains { term.matches($0.pod.podLabels) }
                        && remaining.contains { $0.name != pod.name && term.matches($0.podLabels) && placements[$0.name] == nil }
                }
                if waitsOnUnplaced { deferred.append(pod); continue }
                progress = true
                switch place(pod, placed: placed, cursor: &cursor) {
                case .node(let node):
                    placed.append(Placed(pod: pod, node: node))
                    placements[pod.name] = .node(node)
                case let other:
                    placements[pod.name] = other
                }
            }
            remaining = deferred
        }
        // Affinity cycles / targets that never came: evaluate against what exists.
        for pod in remaining {
            let result = place(pod, placed: placed, cursor: &cursor)
            if case .node(let node) = result { placed.append(Placed(pod: pod, node: node)) }
            placements[pod.name] = result
        }
        return Schedule(nodes: nodes, placements: placements)
    }

    private func place(_ pod: WorkloadDeployment, placed: [Placed], cursor: inout Int) -> PodPlacement {
        var reasons: [String: Int] = [:]
        var reasonOrder: [String] = []
        var feasible: [Int] = []
        for (index, node) in nodes.enumerated() {
            if let reason = conflict(pod, on: node, placed: placed) {
                if reasons[reason] == nil { reasonOrder.append(reason) }
                reasons[reason, default: 0] += 1
            } else {
                feasible.append(index)
            }
        }
        // Round-robin: the first feasible node at or after the cursor.
        if let choice = feasible.first(where: { $0 >= cursor % nodes.count }) ?? feasible.first {
            cursor = choice + 1
            return .node(nodes[choice])
        }
        let detail = reasonOrder.map { reason in
            let count = reasons[reason] ?? 0
            return count == nodes.count ? reason : "\(reason) (\(count) node\(count == 1 ? "" : "s"))"
        }
        return .pending(reason: "0/\(nodes.count) nodes: " + detail.joined(separator: ", "))
    }

    /// The first reason `pod` cannot run on `node`, or nil.
    private func conflict(_ pod: WorkloadDeployment, on node: String, placed: [Placed]) -> String? {
        let local = placed.filter { $0.node == node }
        for term in pod.affinity {
            let matchingAnywhere = placed.filter { term.matches($0.pod.podLabels) }
            let matchingHere = local.contains { term.matches($0.pod.podLabels) }
            switch term.kind {
            case .affinity:
                // Kubernetes lets the first pod of a self-matching group land anywhere.
                if matchingAnywhere.isEmpty && term.matches(pod.podLabels) { continue }
                if matchingAnywhere.isEmpty { return "pod affinity to \(term.targetDescription): no such pod scheduled" }
                if !matchingHere { return "pod affinity to \(term.targetDescription)" }
            case .antiAffinity:
                if matchingHere { return "pod anti-affinity to \(term.targetDescription)" }
            }
        }
        // Anti-affinity is symmetric: existing pods' terms also repel the newcomer.
        for other in local {
            for term in other.pod.affinity where term.kind == .antiAffinity && term.matches(pod.podLabels) {
                return "pod anti-affinity of \(other.pod.name)"
            }
        }
        let claims = pod.hostPortClaims
        if !claims.isEmpty {
            for other in local {
                if let clash = claims.intersection(other.pod.hostPortClaims).min(by: { $0.containerPort < $1.containerPort }) {
                    return "host port \(clash.containerPort)/\(clash.proto) in use by \(other.pod.name)"
                }
            }
        }
        return nil
    }
}
