import Foundation
import KubeClient
import Logging
import ServiceLifecycle

/// The node agent as its node's kube-proxy and node-local DNS: every second it reads Services,
/// Endpoints and this node's Pods from the API and, when anything changed, replaces the node's
/// `nethealth_k8s` nftables table (ClusterIP, NodePort on this node's IP, hostPort of its pods)
/// and the hosts file of its DNS replica (`<svc>.<ns>.svc.cluster.local`; headless Services name
/// their ready endpoints; the simulated internet's hosts too), in each Service's family. One
/// backend per Service port (the first ready endpoint).
struct ServiceRole: Service {
    let client: KubeClient
    let node: ClusterSpec.NodeSpec
    let layout: StateLayout
    let logger: Logger

    /// One replica per node, so its namespace name carries the node's (and differs from conntest's `kube-dns-<node>`).
    var dnsPod: String { Self.dnsPod(node) }
    static func dnsPod(_ node: ClusterSpec.NodeSpec) -> String { "node-local-dns-\(node.name)" }
    /// As kube-proxy's sync period: rules someone removed come back within this.
    static let resyncEvery: Duration = .seconds(10)

    /// The replica's address in this node's pod range (conntest's own DNS uses .3).
    static func dnsIP(_ node: ClusterSpec.NodeSpec) -> String {
        node.podIPv4(host: 4)
    }

    var dns: ClusterDNS {
        let layout = self.layout
        return ClusterDNS(layout: layout, directory: layout.nodeDir(node.name) + "/dns",
                          namespaceOf: { layout.kubePodNamespace(namespace: "kube-system", name: $0) })
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var last: (rules: [ServiceProxy.Rule], hosts: String)?
            var lastResync = ContinuousClock.now
            var replica: pid_t?
            await SyncLoop.run("proxy/dns", every: .seconds(1), logger: logger) {
                if replica.map(DetachedProcess.isAlive) != true {
                    replica = try startDNS()
                    last = nil
                }
                let wanted = try await desired()
                let proxy = ServiceProxy(layout: layout, node: node, table: ServiceProxy.kubernetesTable)
                // Re-applied whole each sync period: a removed table or service route (conntest's
                // cleanup deletes the route it shares) comes back.
                if ContinuousClock.now - lastResync >= Self.resyncEvery {
                    lastResync = .now
                    if !ServiceProxy.hasTable(ServiceProxy.kubernetesTable, namespace: layout.nodeNamespace(node.name)) {
                        logger.warning("proxy: service rules were removed from the node; restoring them")
                    }
                    last = nil
                }
                if last?.rules != wanted.rules { try proxy.install(wanted.rules) }
                if last?.hosts != wanted.hosts || !FileManager.default.fileExists(atPath: dns.hostsPath) {
                    try AtomicFile.write(Data(wanted.hosts.utf8), to: dns.hostsPath)
                    chmod(dns.hostsPath, 0o644)
                    if let replica { kill(replica, SIGHUP) }  // dnsmasq re-reads --addn-hosts
                }
                last = wanted
            }
        }
    }

    /// This node's replica, restarted fresh with each agent (an earlier one is removed first).
    private func startDNS() throws -> pid_t {
        let ns = layout.kubePodNamespace(namespace: "kube-system", name: dnsPod)
        if Netns.exists(ns) { PodNetwork.remove(namespace: ns) }
        try dns.writeRecords([])
        let pid = try dns.start(pod: dnsPod, on: node, ipv4: Self.dnsIP(node), ipv6: node.podIPv6(host: 4))
        try dns.waitUntilListening(pod: dnsPod, ipv4: Self.dnsIP(node), pid: pid)
        return pid
    }

    private func desired() async throws -> (rules: [ServiceProxy.Rule], hosts: String) {
        async let services = client.get("/api/v1/services", as: ObjectList<KubeService>.self)
        async let endpoints = client.get("/api/v1/endpoints", as: ObjectList<Endpoints>.self)
        async let pods = client.get("/api/v1/pods?fieldSelector=spec.nodeName%3D\(node.name)", as: ObjectList<Pod>.self)
        async let outside = SimulatedInternet.fetch(client)
        let view = ServiceView(services: try await services.items, endpoints: try await endpoints.items)
        let records = view.dnsRecords + (try await outside?.hosts ?? [])
        return (view.rules(on: node, pods: try await pods.items), ClusterDNS.hostsFile(records))
    }
}

/// Services and Endpoints from the API as one node's proxy and DNS see them (pure).
struct ServiceView {
    let services: [KubeService]
    let endpointsByName: [String: Endpoints]

    init(services: [KubeService], endpoints: [Endpoints]) {
        self.services = services
        endpointsByName = Dictionary(endpoints.map { ("\($0.metadata.namespace ?? "")/\($0.metadata.name ?? "")", $0) },
                                     uniquingKeysWith: { a, _ in a })
    }

    /// `<svc>.<ns>.svc.cluster.local`: the ClusterIP, or a headless Service's ready endpoints of its family.
    var dnsRecords: [(name: String, addresses: [String])] {
        var records: [(name: String, addresses: [String])] = []
        for svc in services {
            guard let name = svc.metadata.name, let ns = svc.metadata.namespace else { continue }
            let fqdn = "\(name).\(ns).svc.\(ClusterDNS.clusterDomain)"
            if svc.isHeadless {
                let v6 = svc.isIPv6
                let ips = (endpointsByName["\(ns)/\(name)"]?.subsets ?? []).flatMap { $0.addresses ?? [] }.map(\.ip)
                    .filter { $0.contains(":") == v6 }
                if !ips.isEmpty { records.append((fqdn, Array(Set(ips)).sorted())) }
            } else if let clusterIP = svc.spec.clusterIP {
                records.append((fqdn, [clusterIP]))
            }
        }
        return records.sorted { $0.name < $1.name }
    }

    /// `node`'s DNAT rules: every ClusterIP, NodePorts on its IP of the Service's family, hostPorts
    /// of `pods` (the pods bound to it).
    func rules(on node: ClusterSpec.NodeSpec, pods: [Pod]) -> [ServiceProxy.Rule] {
        func isLocal(_ ip: String) -> Bool {
            if ip.contains(":") { return ip == node.ipv6 || node.podPrefixV6.map(ip.hasPrefix) == true }
            return ip == node.ipv4 || ip.hasPrefix(node.podPrefixV4)
        }
        var rules: [ServiceProxy.Rule] = []
        for svc in services where !svc.isHeadless {
            guard let name = svc.metadata.name, let ns = svc.metadata.namespace, let clusterIP = svc.spec.clusterIP else { continue }
            let v6 = svc.isIPv6
            for port in svc.spec.ports ?? [] {
                guard let backend = Self.backend(for: port, in: endpointsByName["\(ns)/\(name)"], ipv6: v6) else { continue }
                let proto = port.protocol ?? "TCP"
                rules.append(.init(daddr: clusterIP, port: port.port, proto: proto, backend: backend.ip, backendPort: backend.port))
                if let nodePort = port.nodePort, let nodeIP = v6 ? node.ipv6 : node.ipv4 {
                    rules.append(.init(daddr: nodeIP, port: nodePort, proto: proto, backend: backend.ip,
                                       backendPort: backend.port, masquerade: !isLocal(backend.ip)))
                }
            }
        }
        for pod in pods where pod.metadata.isDeleting == false {
            guard let ip = pod.status?.podIP, pod.spec.hostNetwork != true else { continue }
            for c in pod.spec.containers {
                for p in c.ports ?? [] where (p.hostPort ?? 0) > 0 {
                    rules.append(.init(daddr: node.ipv4, port: p.hostPort ?? 0, proto: p.protocol ?? "TCP",
                                       backend: ip, backendPort: p.containerPort))
                }
            }
        }
        return rules.sorted { ($0.daddr, $0.port, $0.proto) < ($1.daddr, $1.port, $1.proto) }
    }

    /// The first ready endpoint of the Service's family in the subset carrying `port` (matched by
    /// name, as kube-proxy does).
    static func backend(for port: KubeService.Port, in ep: Endpoints?, ipv6: Bool = false) -> (ip: String, port: Int)? {
        for subset in ep?.subsets ?? [] {
            guard let epPort = (subset.ports ?? []).first(where: { $0.name == port.name || (subset.ports?.count == 1 && port.name == nil) }),
                  let address = (subset.addresses ?? []).first(where: { $0.ip.contains(":") == ipv6 }) else { continue }
            return (address.ip, epPort.port)
        }
        return nil
    }
}
