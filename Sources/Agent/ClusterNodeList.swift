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
/// each family as the primary address, the remaining addresses as secondaries, and the health
/// endpoint from the node's health-IP annotations. Each request lists afresh (bounded by 1 s, well
/// inside the health daemon's own 5 s); when the apiserver does not answer, the last view is served,
/// which a background loop (`refreshLoop`) keeps at most a second old, as the agent's in-memory
/// node cache would.
actor KubernetesNodes: ClusterNodeList {
    let client: KubeClient
    let clusterName: String
    private var lastGood: [NodeElement]?

    init(client: KubeClient, clusterName: String) {
        self.client = client
        self.clusterName = clusterName
    }

    func current() async throws -> [NodeElement] {
        do {
            return try await refresh(timeout: .seconds(1))
        } catch {
            if let lastGood { return lastGood }
            throw error
        }
    }

    @discardableResult
    func refresh(timeout: Duration? = nil) async throws -> [NodeElement] {
        let data = try await client.request(.GET, "/api/v1/nodes", timeout: timeout)
        let list = try KubeClient.decode(ObjectList<Node>.self, data, path: "/api/v1/nodes")
        let nodes = list.items.compactMap { Self.element($0, cluster: clusterName) }
        lastGood = nodes
        return nodes
    }

    /// Keeps the cached list fresh until cancelled.
    nonisolated func refreshLoop(logger: Logger) async {
        await SyncLoop.run("node list", every: .seconds(1), logger: logger) { try await self.refresh() }
    }

    static let healthIPv4Annotation = "network.cilium.io/ipv4-health-ip"
    static let healthIPv6Annotation = "network.cilium.io/ipv6-health-ip"
    /// Older spelling upstream still reads.
    static let legacyPrefix = "io.cilium.network."

    /// The agent API's view of one Node; nil for a node with no address to probe.
    static func element(_ node: Node, cluster: String) -> NodeElement? {
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

        let annotations = node.metadata.annotations ?? [:]
        func annotation(_ key: String) -> String? {
            annotations[key] ?? annotations[legacyPrefix + key.dropFirst("network.cilium.io/".count)]
        }
        let cidrs = node.spec?.podCIDRs ?? node.spec?.podCIDR.map { [$0] } ?? []
        let health4 = annotation(healthIPv4Annotation).map {
            NodeAddressingElement(ip: $0, enabled: true, allocRange: cidrs.first { !$0.contains(":") })
        }
        let health6 = annotation(healthIPv6Annotation).map {
            NodeAddressingElement(ip: $0, enabled: true, allocRange: cidrs.first { $0.contains(":") })
        }
        return NodeElement(
            name: "\(cluster)/\(name)",
            primaryAddress: NodeAddressing(ipv4: element(v4), ipv6: element(v6)),
            secondaryAddresses: secondaries,
            healthEndpointAddress: health4 == nil && health6 == nil ? nil : NodeAddressing(ipv4: health4, ipv6: health6))
    }
}

/// Runs `KubernetesNodes.refreshLoop` as one of the agent's services.
struct NodeListRefresh: Service {
    let nodes: KubernetesNodes
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await nodes.refreshLoop(logger: logger) }
    }
}
