import Foundation

/// A running pod as the policy compiler sees it. The caller supplies every pod
/// that may be a peer, including system pods (kube-dns in kube-system).
public struct PolicyPod: Sendable, Hashable {
    public var name: String
    public var namespace: String
    public var labels: [String: String]
    public var ipv4: String?
    public var ipv6: String?
    /// hostNetwork pods are node identities to Cilium: never selected by a policy
    /// and never matched by an endpoint/pod selector.
    public var hostNetwork: Bool

    public init(name: String, namespace: String = "default", labels: [String: String],
                ipv4: String? = nil, ipv6: String? = nil, hostNetwork: Bool = false) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.hostNetwork = hostNetwork
    }

    /// The pod of a workload Deployment (named after it, `replicas: 1`).
    public init(deployment: WorkloadDeployment, namespace: String = "default", ipv4: String? = nil, ipv6: String? = nil) {
        self.init(name: deployment.name, namespace: namespace, labels: deployment.podLabels,
                  ipv4: ipv4, ipv6: ipv6, hostNetwork: deployment.hostNetwork)
    }

    /// Host prefixes of the pod's addresses (`/32`, `/128`); throws on malformed text.
    func hostPrefixes() throws -> [String] {
        var out: [String] = []
        if let ipv4 {
            guard Self.isAddress(ipv4, family: AF_INET) else {
                throw ConnTestError("pod \(namespace)/\(name): ipv4 \"\(ipv4)\" is not an IPv4 address")
            }
            out.append("\(ipv4)/32")
        }
        if let ipv6 {
            guard Self.isAddress(ipv6, family: AF_INET6) else {
                throw ConnTestError("pod \(namespace)/\(name): ipv6 \"\(ipv6)\" is not an IPv6 address")
            }
            out.append("\(ipv6)/128")
        }
        return out
    }

    private static func isAddress(_ text: String, family: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return buffer.withUnsafeMutableBytes { inet_pton(family, text, $0.baseAddress) } == 1
    }
}
