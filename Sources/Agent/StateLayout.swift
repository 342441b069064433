import Foundation

/// Where a local cluster keeps its files and how its namespaces are named.
public struct StateLayout: Sendable {
    public let root: String
    public let cluster: String

    /// `$NETHEALTH_STATE_DIR` moves the whole tree (tests use it); default /run/nethealth.
    public static var defaultRoot: String {
        ProcessInfo.processInfo.environment["NETHEALTH_STATE_DIR"] ?? "/run/nethealth"
    }

    public init(cluster: String, root: String = StateLayout.defaultRoot) {
        self.root = root
        self.cluster = cluster
    }

    /// Short and DNS-like so every derived name fits the 15-byte interface and netns conventions.
    public static func validate(clusterName: String) throws {
        let ok = !clusterName.isEmpty && clusterName.count <= 20
            && clusterName.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
            && clusterName.first != "-" && clusterName.last != "-"
        guard ok else {
            throw AgentError("invalid cluster name '\(clusterName)': use 1-20 lowercase letters, digits or '-'")
        }
    }

    public var clusterDir: String { "\(root)/\(cluster)" }
    public var specPath: String { "\(clusterDir)/cluster.json" }
    public var lockPath: String { "\(root)/\(cluster).lock" }
    /// Held by a `conntest run` for its whole life: one workload per cluster at a time.
    public var runLockPath: String { "\(root)/\(cluster).run.lock" }
    public func nodeDir(_ node: String) -> String { "\(clusterDir)/\(node)" }
    public func agentSocket(_ node: String) -> String { "\(nodeDir(node))/cilium.sock" }
    public func healthSocket(_ node: String) -> String { "\(nodeDir(node))/health.sock" }
    public func agentPidfile(_ node: String) -> String { "\(nodeDir(node))/agent.pid" }
    public func agentLog(_ node: String) -> String { "\(nodeDir(node))/agent.log" }
    public func healthEndpointPidfile(_ node: String) -> String { "\(nodeDir(node))/health-endpoint.pid" }
    public func healthEndpointLog(_ node: String) -> String { "\(nodeDir(node))/health-endpoint.log" }
    /// The node's probe history (SQLite, WAL: `-wal` and `-shm` files sit beside it).
    public func historyDatabase(_ node: String) -> String { "\(nodeDir(node))/history.db" }
    public func faultPath(_ node: String) -> String { "\(nodeDir(node))/fault.json" }
    public func delayPidfile(_ node: String) -> String { "\(nodeDir(node))/nfq-delay.pid" }
    public func delayLog(_ node: String) -> String { "\(nodeDir(node))/nfq-delay.log" }

    /// The control plane's files: PKI, etcd data, component kubeconfigs, logs.
    public var controlPlaneDir: String { "\(clusterDir)/control-plane" }
    public func controlPlaneLog(_ component: String) -> String { "\(controlPlaneDir)/\(component).log" }
    /// The admin kubeconfig a user points kubectl at (server on the host's loopback).
    public var kubeconfigPath: String { "\(clusterDir)/kubeconfig" }
    /// The node agent's own identity (`system:node:<node>`), server on the cluster network.
    public func nodeKubeconfig(_ node: String) -> String { "\(nodeDir(node))/kubeconfig" }

    public var bridgeNamespace: String { "nh-\(cluster)-br" }
    /// etcd, kube-apiserver, controller-manager and scheduler run here, on the cluster bridge.
    public var controlPlaneNamespace: String { "nh-\(cluster)-cp" }
    public func nodeNamespace(_ node: String) -> String { "nh-\(cluster)-\(node)" }
    public func healthNamespace(_ node: String) -> String { "nh-\(cluster)-\(node)-health" }
    /// A Pod from the Kubernetes API that this node's agent runs (netns names are file names, so the
    /// 15-byte interface limit does not apply).
    public func kubePodNamespace(namespace: String, name: String) -> String { "nh-\(cluster)-kpod-\(namespace).\(name)" }
    /// The simulated external host of `conntest run --external-ip` (outside every node, on the bridge).
    public var externalNamespace: String { "nh-\(cluster)-ext" }
    /// `nh-<cluster>-node-<i>`.
    public func isNodeNamespace(_ ns: String) -> Bool {
        guard ns.hasPrefix("nh-\(cluster)-") else { return false }
        let rest = ns.dropFirst("nh-\(cluster)-".count)
        return rest.hasPrefix("node-") && rest.count > "node-".count && rest.dropFirst("node-".count).allSatisfy(\.isNumber)
    }

    /// True for every namespace this cluster can have made, and for no other cluster's.
    public func ownsNamespace(_ ns: String) -> Bool {
        let prefix = "nh-\(cluster)-"
        guard ns.hasPrefix(prefix) else { return false }
        let rest = ns.dropFirst(prefix.count)
        if rest == "br" || rest == "ext" || rest == "cp" { return true }
        if rest.hasPrefix("kpod-") && rest.count > "kpod-".count { return true }
        var tail = Substring(rest)
        if tail.hasSuffix("-health") { tail = tail.dropLast("-health".count) }
        guard tail.hasPrefix("node-") else { return false }
        let digits = tail.dropFirst("node-".count)
        return !digits.isEmpty && digits.allSatisfy(\.isNumber)
    }
}
