import Agent
import ConnTest

/// Turns the generated Services into per-node DNAT rules and DNS records, given where the pods
/// landed. One endpoint per Service: the suite runs one replica of every server.
public struct ServicePlan: Sendable, Equatable {
    public static let namespace = "default"
    /// ClusterIPs are `198.18.128.(10+k)` (or `fd00:198:128::(10+k)`) in Service order, inside
    /// ServiceProxy.serviceCIDR (serviceCIDRv6).
    static let clusterIPPrefix = "198.18.128."
    static let clusterIPv6Prefix = "fd00:198:128::"

    public var clusterIPs: [String: String]
    public var rules: [String: [ServiceProxy.Rule]]
    public var dnsRecords: [(name: String, addresses: [String])]

    public static func == (a: ServicePlan, b: ServicePlan) -> Bool {
        a.clusterIPs == b.clusterIPs && a.rules == b.rules
            && a.dnsRecords.map(\.name) == b.dnsRecords.map(\.name) && a.dnsRecords.map(\.addresses) == b.dnsRecords.map(\.addresses)
    }

    /// Every Service is single-stack in `family` (its ClusterIP, endpoints, NodePorts and DNS records).
    public init(workload: RunWorkload, addresses: PodAddressPlan, cluster: ClusterSpec, family: RunIPFamily = .ipv4) {
        func nodeIP(_ node: ClusterSpec.NodeSpec) -> String? { family == .ipv4 ? node.ipv4 : node.ipv6 }
        var clusterIPs: [String: String] = [:]
        var rules: [String: [ServiceProxy.Rule]] = [:]
        var records: [(name: String, addresses: [String])] = []
        var nextIP = 10
        for service in workload.services {
            let backends = workload.all.filter { $0.podLabels["name"] == service.selector }.compactMap { addresses.pods[$0.name] }
                .compactMap { a in a.ip(family).map { (node: a.node, ip: $0) } }
            var recordAddresses = backends.map(\.ip)
            if service.kind != .headless {
                let ip = (family == .ipv4 ? Self.clusterIPPrefix : Self.clusterIPv6Prefix) + "\(nextIP)"
                nextIP += 1
                clusterIPs[service.name] = ip
                recordAddresses = [ip]
                if let backend = backends.first {
                    for port in service.ports {
                        for node in cluster.nodes {
                            rules[node.name, default: []].append(.init(daddr: ip, port: port.port, proto: port.proto,
                                                                       backend: backend.ip, backendPort: port.targetPort))
                            guard service.kind == .nodePort, let nodePort = port.nodePort, let nodeAddress = nodeIP(node) else { continue }
                            rules[node.name, default: []].append(.init(
                                daddr: nodeAddress, port: nodePort, proto: port.proto, backend: backend.ip,
                                backendPort: port.targetPort, masquerade: backend.node != node.name))
                        }
                    }
                }
            }
            if !recordAddresses.isEmpty {
                for name in Self.dnsNames(service.name) { records.append((name, recordAddresses)) }
            }
        }
        // hostPort (the CNI portmap plugin's job upstream): only the pod's own node IP.
        for d in workload.all {
            guard !d.hostNetwork, let address = addresses.pods[d.name], let podIP = address.ip(family),
                  let node = cluster.node(named: address.node), let nodeAddress = nodeIP(node) else { continue }
            for container in d.containers {
                for port in container.ports {
                    guard let hostPort = port.hostPort else { continue }
                    rules[address.node, default: []].append(.init(daddr: nodeAddress, port: hostPort, proto: port.proto,
                                                                  backend: podIP, backendPort: port.containerPort))
                }
            }
        }
        self.clusterIPs = clusterIPs
        self.rules = rules
        self.dnsRecords = records
    }

    /// `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`.
    static func dnsNames(_ service: String) -> [String] {
        let ns = "\(service).\(namespace)"
        return [service, ns, "\(ns).svc", "\(ns).svc.\(ClusterDNS.clusterDomain)"]
    }
}
