/// Where the scheduler put one pod, or why it could not.
public enum PodPlacement: Sendable, Equatable {
    case node(String)
    /// Unschedulable, with a kube-scheduler-like reason ("0/1 nodes: pod anti-affinity to echo-b").
    case pending(reason: String)
    /// Its pod was refused at creation (an admission plugin or webhook), with the server's words.
    case rejected(reason: String)

    public var nodeName: String? {
        if case .node(let n) = self { return n }
        return nil
    }
}

