import Foundation
import HealthAPI

/// The local cluster file: what `cluster up` built and every node agent reads.
public struct ClusterSpec: Codable, Sendable, Equatable {
    public var name: String
    public var ipv6: Bool
    public var probeRatio: Double
    /// Echoes per ICMP probe; absent in files written before bursts existed (then the default).
    public var icmpBurst: Int?
    /// Absent in files written before it existed: upstream's timing then applies.
    public var endpointCheck: EndpointCheckTiming?
    /// Group of the agents' API sockets (mode 0660); nil: `cilium` if it exists, else root only.
    public var socketGroup: String?
    public var nodes: [NodeSpec]
    /// The cluster's Kubernetes control plane; absent for a cluster made with `--no-kubernetes`.
    public var kubernetes: KubernetesSpec?
    /// The compiled policy datapath (`policy.bpf.o`) `cluster up` found or built for the agents'
    /// policy role; nil when it could not (the agents then run pods unenforced and say why).
    public var policyObject: String?
    /// Why `policyObject` is nil.
    public var policyObjectError: String?
    /// Who runs cilium-health on the nodes; absent: each node agent (`agent`).
    public var health: HealthMode?

    /// `agent`: each node agent runs its health daemon and endpoint. `daemonset`: the agents leave
    /// both to the DaemonSets of deploy/ (applied with kubectl), which the agents' kubelet runs.
    public enum HealthMode: String, Codable, Sendable, CaseIterable {
        case agent, daemonset
    }

    public var healthMode: HealthMode { health ?? .agent }

    /// Where `cilium-health` on a node finds the health API: the agent's socket, or in daemonset
    /// mode the socket the DaemonSet's daemon serves on its hostPath.
    public func healthSocket(_ node: String, layout: StateLayout) -> String {
        switch healthMode {
        case .agent: layout.healthSocket(node)
        case .daemonset: layout.nodeHostPath(node, KubernetesHealthDaemon.socketDirectory + "/health.sock")
        }
    }

    public struct KubernetesSpec: Codable, Sendable, Equatable {
        public var version: String
        /// kube-apiserver's address on the cluster bridge (what nodes use).
        public var apiServerIPv4: String
        public var apiServerIPv6: String?
        public var apiServerPort: Int
        /// The host-loopback port forwarded to the apiserver (what the admin kubeconfig uses).
        public var hostPort: Int
        /// `--service-cluster-ip-range`: IPv4, then IPv6 on a dual-stack cluster (comma-separated).
        public var serviceCIDR: String
        /// Seconds between a node's Lease renewals, and the lease duration it declares.
        public var leaseRenewSeconds: Int
        public var leaseDurationSeconds: Int
        /// The controller-manager's node-monitor-grace-period: a node whose lease is older goes NotReady.
        public var nodeMonitorGraceSeconds: Int

        public var apiServerURL: String { "https://\(apiServerIPv4):\(apiServerPort)" }
        public var hostURL: String { "https://127.0.0.1:\(hostPort)" }
    }

    /// How the agent watches its health endpoint (upstream controller `cilium-health-ep`).
    public struct EndpointCheckTiming: Codable, Sendable, Equatable {
        /// Seconds between `GET /hello` checks (upstream 60).
        public var checkSeconds: Double
        /// Seconds without a successful check before the endpoint is rebuilt (upstream 300).
        public var relaunchAfterSeconds: Double

        public init(checkSeconds: Double, relaunchAfterSeconds: Double) {
            self.checkSeconds = checkSeconds
            self.relaunchAfterSeconds = relaunchAfterSeconds
        }

        public static let upstream = EndpointCheckTiming(checkSeconds: 60, relaunchAfterSeconds: 300)
    }

    public struct NodeSpec: Codable, Sendable, Equatable {
        public var name: String
        public var index: Int
        public var ipv4: String
        public var ipv6: String?
        public var podCIDRv4: String
        public var podCIDRv6: String?
        /// The node-side router address of its pod range (upstream's cilium_host IP).
        public var routerIPv4: String
        public var routerIPv6: String?
        public var healthIPv4: String
        public var healthIPv6: String?

        /// `198.19.i.`: the node's IPv4 pod range (a /24) up to its last octet.
        public var podPrefixV4: String { routerIPv4.split(separator: ".").dropLast().joined(separator: ".") + "." }
        /// Host `n` of the node's IPv4 pod range.
        public func podIPv4(host: Int) -> String { podPrefixV4 + "\(host)" }
        /// `fd00:199:0:3::` of a dual-stack node's IPv6 pod range (a /64), nil without one.
        public var podPrefixV6: String? { podCIDRv6?.split(separator: "/").first.map(String.init) }
        /// Host `n` of the node's IPv6 pod range, written with the same digits as its IPv4 twin.
        public func podIPv6(host: Int) -> String? { podPrefixV6.map { $0 + "\(host)" } }
    }

    public static let maxNodes = 200

    /// Addresses come from the benchmarking range (198.18.0.0/15) and fd00::/8 only.
    public static func plan(name: String, nodeCount: Int, ipv6: Bool, probeRatio: Double,
                            endpointCheck: EndpointCheckTiming = .upstream) -> ClusterSpec {
        let nodes = (1...nodeCount).map { i -> NodeSpec in
            NodeSpec(
                name: "node-\(i)", index: i,
                ipv4: "198.18.0.\(10 + i)", ipv6: ipv6 ? "fd00:198::\(10 + i)" : nil,
                podCIDRv4: "198.19.\(i).0/24", podCIDRv6: ipv6 ? "fd00:199:0:\(i)::/64" : nil,
                routerIPv4: "198.19.\(i).1", routerIPv6: ipv6 ? "fd00:199:0:\(i)::1" : nil,
                healthIPv4: "198.19.\(i).2", healthIPv6: ipv6 ? "fd00:199:0:\(i)::2" : nil)
        }
        return ClusterSpec(name: name, ipv6: ipv6, probeRatio: probeRatio, endpointCheck: endpointCheck, nodes: nodes,
                           kubernetes: nil)
    }

    public static let nodeIPv4Prefix = 24
    public static let nodeIPv6Prefix = 64

    public func node(named: String) -> NodeSpec? { nodes.first { $0.name == named } }

    /// `<cluster>/<node>`, the full name upstream uses in the health API.
    public func fullName(_ node: NodeSpec) -> String { "\(name)/\(node.name)" }

    /// The node as the agent API describes it.
    public func element(_ node: NodeSpec) -> NodeElement {
        NodeElement(
            name: fullName(node),
            primaryAddress: NodeAddressing(
                ipv4: NodeAddressingElement(ip: node.ipv4, enabled: true, addressType: "InternalIP"),
                ipv6: node.ipv6.map { NodeAddressingElement(ip: $0, enabled: true, addressType: "InternalIP") }),
            secondaryAddresses: [],
            healthEndpointAddress: NodeAddressing(
                ipv4: NodeAddressingElement(ip: node.healthIPv4, enabled: true, allocRange: node.podCIDRv4),
                ipv6: node.healthIPv6.map { NodeAddressingElement(ip: $0, enabled: true, allocRange: node.podCIDRv6) }))
    }

    public static func load(_ path: String) throws -> ClusterSpec {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            return try JSONDecoder().decode(ClusterSpec.self, from: data)
        } catch {
            throw AgentError("cluster file \(path) is not valid: \(error)")
        }
    }

    /// Written to a temporary file and renamed, so a reader never sees half a file.
    public func save(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: path)
    }
}

/// A failure with a message meant for the person at the terminal.
public struct AgentError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let tmp = path + ".tmp.\(getpid())"
        try data.write(to: URL(fileURLWithPath: tmp))
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw AgentError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
