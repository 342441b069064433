import Agent
import ConnTest

/// What the datapath must hold for a run (pure: no namespaces, no BPF): per pod an endpoint id,
/// its host veth and node, enforcement flags and allow rules.
///
/// tc ingress on the client's host veth sees a packet before the node's nftables DNAT, so an
/// egress rule for a Service's backend pod IP would not match traffic to the Service: every egress
/// rule naming a backend pod (/32) on its target port also allows each address that DNATs to it
/// (the ClusterIP on the service port, every node IP on the NodePort, the pod's node IP on a
/// hostPort), as Cilium's socket/tc load-balancing translates before policy. Ingress needs no
/// expansion: the server's veth sees the packet after DNAT, with the client's pod IP (or, for a
/// NodePort via another node, that node's IP) as source. DNS needs none either: resolv.conf names
/// the node's DNS replica's pod IP itself, which the compiler already resolves.
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

    public static let dnsNamespace = "kube-system"
    public static let dnsLabels = ["k8s-app": "kube-dns"]

    public init(resources: [Resource], plan: RunPlan, addresses: PodAddressPlan, services: ServicePlan) throws {
        let namespace = ServicePlan.namespace
        // Every pod once, with where it runs: the compiler needs them all as peers, the datapath
        // the ones behind a veth.
        var members: [(pod: PolicyPod, node: String, ipv4: String)] = plan.workload.all.compactMap { d in
            guard let a = addresses.pods[d.name] else { return nil }
            return (PolicyPod(deployment: d, namespace: namespace, ipv4: a.ipv4, ipv6: a.ipv6), a.node, a.ipv4)
        }
        members += addresses.dnsPods.map { replica in
            (PolicyPod(name: replica.name, namespace: Self.dnsNamespace, labels: Self.dnsLabels,
                       ipv4: replica.ipv4, ipv6: replica.ipv6), replica.node, replica.ipv4)
        }
        // Manifests without metadata.namespace land in the run's namespace (ServicePlan.namespace).
        let compiled = try PolicyCompiler.compile(resources: resources, pods: members.map(\.pod), defaultNamespace: namespace)

        // Service address -> backend paths: every DNAT rule on every node (ClusterIP, NodePort, hostPort).
        clusterIPs = services.clusterIPs
        var paths: [ServiceProxy.Rule] = []
        for node in services.rules.keys.sorted() {
            for rule in services.rules[node] ?? [] where !paths.contains(where: { $0.sameTranslation(as: rule) }) {
                paths.append(rule)
            }
        }

        let located = members.filter { !$0.pod.hostNetwork }.sorted { $0.pod.name < $1.pod.name }
        endpoints = located.enumerated().map { i, m in
            let policy = compiled.pod(m.pod.name, namespace: m.pod.namespace)
            return Endpoint(pod: m.pod.name, id: UInt32(i + 1), node: m.node, hostInterface: PodNetwork.hostInterface(pod: m.pod.name),
                            ipv4: m.ipv4, ipv6: m.pod.ipv6, egressEnforced: policy?.egressEnforced ?? false,
                            ingressEnforced: policy?.ingressEnforced ?? false,
                            rules: Self.withServicePaths(policy?.rules ?? [], paths: paths))
        }
    }

    public func endpoint(_ pod: String) -> Endpoint? { endpoints.first { $0.pod == pod } }

    /// Adds the Service addresses for every egress rule that allows a Service backend's target port.
    static func withServicePaths(_ rules: [PolicyRuleSpec], paths: [ServiceProxy.Rule]) -> [PolicyRuleSpec] {
        var out = Set(rules)
        for rule in rules where rule.direction == .egress {
            for path in paths {
                let hostBits = path.isIPv6 ? 128 : 32
                let proto: PolicyL4Protocol = path.proto.uppercased() == "UDP" ? .udp : .tcp
                guard rule.cidr == "\(path.backend)/\(hostBits)", rule.proto == .any || rule.proto == proto,
                      rule.port == 0 || Int(rule.port) == path.backendPort,
                      let port = UInt16(exactly: path.port) else { continue }
                out.insert(PolicyRuleSpec(direction: .egress, cidr: "\(path.daddr)/\(hostBits)", proto: proto, port: port))
            }
        }
        return out.sorted()
    }
}

extension ServiceProxy.Rule {
    /// Same address, port and backend (the masquerade flag differs per node, the policy does not).
    func sameTranslation(as other: ServiceProxy.Rule) -> Bool {
        daddr == other.daddr && port == other.port && proto == other.proto && backend == other.backend
            && backendPort == other.backendPort
    }
}
