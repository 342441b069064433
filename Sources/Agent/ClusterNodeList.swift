import Foundation
import HealthAPI
import KubeClient
import Logging
import ServiceLifecycle

/// Where the agent learns the cluster's nodes, which `/v1/cluster/nodes` serves as diffs.
protocol ClusterNodeList: Sendable {
    func current() async throws -> [NodeElement]
}

/// The local cluster file, re-read on each call so nodes added or removed by `cluster up/down` show up.
struct ClusterFileNodes: ClusterNodeList {
    let layout: StateLayout

    func current() async throws -> [NodeElement] {
        let spec = try ClusterSpec.load(layout.specPath)
        return spec.nodes.map(spec.element)
    }
}

/// The Kubernetes API's Nodes, as Cilium's node manager sees them: InternalIP (else ExternalIP) of
/// each family as the primary address, the remaining addresses as secondaries. The health endpoint
/// is the pod of our endpoint DaemonSet on the node (found by label), else CiliumNode
/// `spec.health` (when Cilium's CRDs are served), else the node's health-IP annotations. A node that
/// is NotReady or cordoned carries that state, so the health daemon lists it instead of counting it
/// unreachable.
///
/// Each collection is a watch (`Reflector`): a new Node is served as soon as its ADDED event
/// arrives, the watch resumes on expiry and relists on 410, and while the apiserver does not answer
/// the last view is served, as the agent's in-memory node cache would.
public struct KubernetesNodes: ClusterNodeList {
    public let clusterName: String
    let nodes: Reflector<Node>
    let endpoints: Reflector<Pod>
    let ciliumNodes: Reflector<CiliumNode>

    /// RFC 3986 unreserved characters: `=` and `,` of a selector are escaped.
    /// The label of our health-endpoint DaemonSet's pods (deploy/).
    public static let defaultEndpointSelector = "app.kubernetes.io/name=nethealth-health-endpoint"

    /// `endpointNamespace` nil watches endpoint pods in every namespace.
    public init(client: KubeClient, clusterName: String, endpointSelector: String = Self.defaultEndpointSelector,
                endpointNamespace: String? = nil) {
        self.clusterName = clusterName
        nodes = Reflector(client: client, collectionPath: "/api/v1/nodes")
        let podPath = endpointNamespace.map { "/api/v1/namespaces/\($0)/pods" } ?? "/api/v1/pods"
        endpoints = Reflector(client: client, collectionPath: podPath, query: KubeClient.labelSelectorQuery(endpointSelector))
        ciliumNodes = Reflector(client: client, collectionPath: "/apis/cilium.io/v2/ciliumnodes")
    }

    public func current() async throws -> [NodeElement] {
        guard await nodes.synced else {
            let why = await nodes.lastError.map { ": \($0)" } ?? " yet"
            throw AgentError("the Kubernetes API's nodes have not been listed\(why)")
        }
        let pods = await endpoints.objects.values
        let cilium = await ciliumNodes.objects.values
        return Self.elements(nodes: Array(await nodes.objects.values), endpointPods: Array(pods),
                             ciliumNodes: Array(cilium), cluster: clusterName)
    }

    /// Waits (at most `timeout`) until the node list has been read; false if it was not.
    public func waitUntilSynced(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !(await nodes.synced) {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return true
    }

    /// This node's own object, once listed (its addresses are where a hostNetwork daemon answers).
    public func node(named name: String) async -> Node? { await nodes.objects["/\(name)"] }

    /// Keeps the three caches current until cancelled.
    func watchLoop() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await nodes.run() }
            group.addTask { await endpoints.run() }
            group.addTask { await ciliumNodes.run() }
        }
    }

    static let healthIPv4Annotation = "network.cilium.io/ipv4-health-ip"
    static let healthIPv6Annotation = "network.cilium.io/ipv6-health-ip"
    /// Older spelling upstream still reads.
    static let legacyPrefix = "io.cilium.network."

    /// Every node's element, each with its endpoint pod or CiliumNode.
    static func elements(nodes: [Node], endpointPods: [Pod], ciliumNodes: [CiliumNode], cluster: String) -> [NodeElement] {
        var podByNode: [String: Pod] = [:]
        for pod in endpointPods.sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") })
        where pod.serving && podByNode[pod.spec.nodeName ?? ""] == nil {
            podByNode[pod.spec.nodeName ?? ""] = pod
        }
        let cilium = Dictionary(ciliumNodes.map { ($0.metadata.name ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        return nodes.compactMap { node in
            let name = node.metadata.name ?? ""
            return element(node, cluster: cluster, endpoint: podByNode[name], ciliumNode: cilium[name])
        }
    }

    /// The agent API's view of one Node; nil for a node with no address to probe.
    static func element(_ node: Node, cluster: String, endpoint: Pod? = nil, ciliumNode: CiliumNode? = nil) -> NodeElement? {
        guard let name = node.metadata.name else { return nil }
        let addresses = node.status?.addresses ?? []
        func ip(_ a: Node.Address) -> Bool { a.type == "InternalIP" || a.type == "ExternalIP" }
        let candidates = addresses.filter(ip).sorted { ($0.type == "InternalIP" ? 0 : 1) < ($1.type == "InternalIP" ? 0 : 1) }
        let v4 = candidates.first { !$0.address.contains(":") }
        let v6 = candidates.first { $0.address.contains(":") }
        guard v4 != nil || v6 != nil else { return nil }
        func element(_ a: Node.Address?) -> NodeAddressingElement? {
            a.map { NodeAddressingElement(ip: $0.address, enabled: true, addressType: $0.type) }
        }
        let primaries = Set([v4?.address, v6?.address].compactMap { $0 })
        let secondaries = candidates.filter { !primaries.contains($0.address) }
            .map { NodeAddressingElement(ip: $0.address, enabled: true, addressType: $0.type) }

        let (health4, health6) = healthIPs(node, endpoint: endpoint, ciliumNode: ciliumNode)
        let cidrs = node.spec?.podCIDRs ?? node.spec?.podCIDR.map { [$0] } ?? []
        let e4 = health4.map { NodeAddressingElement(ip: $0, enabled: true, allocRange: cidrs.first { !$0.contains(":") }) }
        let e6 = health6.map { NodeAddressingElement(ip: $0, enabled: true, allocRange: cidrs.first { $0.contains(":") }) }
        let state = Self.state(node)
        return NodeElement(
            name: "\(cluster)/\(name)",
            primaryAddress: NodeAddressing(ipv4: element(v4), ipv6: element(v6)),
            secondaryAddresses: secondaries,
            healthEndpointAddress: e4 == nil && e6 == nil ? nil : NodeAddressing(ipv4: e4, ipv6: e6),
            nodeState: state.isEmpty ? nil : state)
    }

    /// Our endpoint pod's IPs, else CiliumNode `spec.health`, else the health-IP annotations.
    static func healthIPs(_ node: Node, endpoint: Pod?, ciliumNode: CiliumNode?) -> (String?, String?) {
        if let endpoint {
            let ips = (endpoint.status?.podIPs?.map(\.ip) ?? []) + [endpoint.status?.podIP].compactMap { $0 }
            return (ips.first { !$0.contains(":") }, ips.first { $0.contains(":") })
        }
        if let health = ciliumNode?.spec?.health, health.ipv4 != nil || health.ipv6 != nil {
            return (health.ipv4, health.ipv6)
        }
        let annotations = node.metadata.annotations ?? [:]
        func annotation(_ key: String) -> String? {
            annotations[key] ?? annotations[legacyPrefix + key.dropFirst("network.cilium.io/".count)]
        }
        return (annotation(healthIPv4Annotation), annotation(healthIPv6Annotation))
    }

    /// `NotReady` unless the Ready condition is True (a Node with no status yet is not ready), and
    /// `Unschedulable` when cordoned.
    static func state(_ node: Node) -> [String] {
        var state: [String] = []
        if node.condition("Ready")?.status != "True" { state.append("NotReady") }
        if node.spec?.unschedulable == true { state.append("Unschedulable") }
        return state
    }
}

extension Pod {
    /// Running (or starting) with an address and not being deleted: an endpoint worth probing.
    var serving: Bool {
        !metadata.isDeleting && status?.podIP != nil && !["Succeeded", "Failed"].contains(status?.phase ?? "")
    }
}

/// Runs `KubernetesNodes.watchLoop` as one of the agent's services.
public struct NodeListRefresh: Service {
    let nodes: KubernetesNodes
    let logger: Logger

    public init(nodes: KubernetesNodes, logger: Logger) {
        self.nodes = nodes
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await nodes.watchLoop() }
    }
}
