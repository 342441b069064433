import Agent
import ConnTest

/// What the datapath must hold for a run (pure: no namespaces, no BPF): per pod an endpoint id,
/// its host veth and node, enforcement flags and allow rules (egress rules widened to the Service
/// addresses that DNAT to their pods, see `ServicePaths`). DNS needs no expansion: resolv.conf
/// names the node's DNS replica's pod IP itself, which the compiler already resolves.
public struct EnforcementPlan: Sendable, Equatable {
    public struct Endpoint: Sendable, Equatable {
        public var pod: String
        public var id: UInt32
        public var node: String
        public var hostInterface: String
        public var ipv4: String
        public var ipv6: String?
        public var egressEnforced: Bool
        public var ingressEnforced: Bool
        public var rules: [PolicyRuleSpec]
    }

    /// Every non-hostNetwork pod (workload and DNS replicas), sorted by name; ids from 1.
    public var endpoints: [Endpoint]
    /// Service name -> ClusterIP (names drop destinations).
    public var clusterIPs: [String: String]


    public init(resources: [Resource], plan: RunPlan, addresses: PodAddressPlan, services: ServicePlan) throws {
        let namespace = ServicePlan.namespace
        // Every pod once, with where it runs: the compiler needs them all as peers, the datapath
        // the ones behind a veth.
        var members: [(pod: PolicyPod, node: String, ipv4: String)] = plan.workload.all.compactMap { d in
            guard let a = addresses.pods[d.name] else { return nil }
            return (PolicyPod(deployment: d, namespace: namespace, ipv4: a.ipv4, ipv6: a.ipv6), a.node, a.ipv4)
        }
        members += addresses.dnsPods.map { replica in
            (PolicyPod(name: replica.name, namespace: ClusterDNS.policyNamespace, labels: ClusterDNS.policyLabels,
                       ipv4: replica.ipv4, ipv6: replica.ipv6), replica.node, replica.ipv4)
        }
        // Manifests without metadata.namespace land in the run's namespace (ServicePlan.namespace).
        let compiled = try PolicyCompiler.compile(resources: resources, pods: members.map(\.pod), defaultNamespace: namespace)

        // Service address -> backend paths: every DNAT rule on every node (ClusterIP, NodePort, hostPort).
        clusterIPs = services.clusterIPs
        let paths = ServicePaths(rulesByNode: services.rules)

        let located = members.filter { !$0.pod.hostNetwork }.sorted { $0.pod.name < $1.pod.name }
        endpoints = located.enumerated().map { i, m in
            let policy = compiled.pod(m.pod.name, namespace: m.pod.namespace)
            return Endpoint(pod: m.pod.name, id: UInt32(i + 1), node: m.node, hostInterface: PodNetwork.hostInterface(pod: m.pod.name),
                            ipv4: m.ipv4, ipv6: m.pod.ipv6, egressEnforced: policy?.egressEnforced ?? false,
                            ingressEnforced: policy?.ingressEnforced ?? false,
                            rules: paths.expand(policy?.rules ?? []))
        }
    }

    public func endpoint(_ pod: String) -> Endpoint? { endpoints.first { $0.pod == pod } }
}
