import Foundation
import HealthAPI
import KubeClient

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
/// endpoint from the node's health-IP annotations. Served from the last good list while the
/// apiserver is unreachable, as the agent's in-memory node cache would be.
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
            let list = try await client.get("/api/v1/nodes", as: ObjectList<Node>.self)
            let nodes = list.items.compactMap { Self.element($0, cluster: clusterName) }
            lastGood = nodes
            return nodes
        } catch {
            if let lastGood { return lastGood }
            throw error
        }
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
