/// Where the scheduler put one pod, or why it could not.
public enum PodPlacement: Sendable, Equatable {
    case node(String)
    /// Unschedulable, with a kube-scheduler-like reason ("0/1 nodes: pod anti-affinity to echo-b").
    case pending(reason: String)

    public var nodeName: String? {
        if case .node(let n) = self { return n }
        return nil
    }
}

/// The placement of every pod of a workload.
public struct Schedule: Sendable, Equatable {
    public var nodes: [String]
    /// Keyed by deployment name.
    public var placements: [String: PodPlacement]

    public init(nodes: [String], placements: [String: PodPlacement]) {
        self.nodes = nodes
        self.placements = placements
    }

    public func placement(of deployment: String) -> PodPlacement? { placements[deployment] }

    public var pending: [String: String] {
        placements.compactMapValues { if case .pending(let r) = $0 { return r } else { return nil } }
    }
}
