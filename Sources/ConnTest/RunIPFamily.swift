/// The address family a run's Services and DNS hand out (Kubernetes `ipFamilies` of every Service).
/// Pods of a dual-stack cluster always get both addresses; with `.ipv6` DNS answers only AAAA
/// records, so every probe's traffic (pod, ClusterIP, NodePort, hostPort) is IPv6.
public enum RunIPFamily: String, Sendable, CaseIterable {
    case ipv4, ipv6
}
