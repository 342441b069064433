import HealthAPI

/// Serves `GET /v1/cluster/nodes?client-id=N`: each client gets the nodes added and removed since
/// its previous call; id 0 (or an id we no longer know) starts a new client with the full list.
actor NodeDiffTracker {
    private var seen: [Int64: [String: NodeElement]] = [:]
    private var nextID: Int64 = 1
    private let maxClients = 1024

    func diff(clientID: Int64, current: [NodeElement], selfName: String) -> ClusterNodeStatus {
        let now = Dictionary(current.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        guard clientID != 0, let before = seen[clientID] else {
            let id = nextID
            nextID += 1
            if seen.count >= maxClients, let oldest = seen.keys.min() { seen[oldest] = nil }
            seen[id] = now
            return ClusterNodeStatus(clientID: id, self_: selfName, nodesAdded: sorted(now.values), nodesRemoved: nil)
        }
        seen[clientID] = now
        let added = now.values.filter { before[$0.name] != $0 }
        let removed = before.values.filter { now[$0.name] == nil || now[$0.name] != $0 }
        return ClusterNodeStatus(clientID: clientID, self_: selfName,
                                 nodesAdded: added.isEmpty ? nil : sorted(added),
                                 nodesRemoved: removed.isEmpty ? nil : sorted(removed))
    }

    private func sorted<S: Sequence>(_ s: S) -> [NodeElement] where S.Element == NodeElement {
        s.sorted { $0.name < $1.name }
    }
}
