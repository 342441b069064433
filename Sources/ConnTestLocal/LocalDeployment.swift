import Agent
import ConnTest
import Foundation

/// A planned workload made real on a local cluster: DNS replicas, pod namespaces, service tables,
/// echo-server processes. `teardown()` is idempotent and may run from a signal handler's queue
/// while `deploy()` is mid-way: both take the lock, and deploy stops once torn down.
public final class LocalDeployment: @unchecked Sendable {
    public let layout: StateLayout
    public let cluster: ClusterSpec
    public let plan: RunPlan
    public let addresses: PodAddressPlan
    public let services: ServicePlan
    /// Names outside the cluster the DNS must answer too (the simulated external host's FQDN).
    public let extraDNSRecords: [(name: String, addresses: [String])]
    /// What Services and DNS hand out; `.ipv6` needs a dual-stack cluster.
    public let family: RunIPFamily

    private let lock = NSLock()
    private var tornDown = false
    /// (pod, container) -> running echo-server pid.
    private var processes: [String: pid_t] = [:]

    public init(layout: StateLayout, cluster: ClusterSpec, plan: RunPlan,
                extraDNSRecords: [(name: String, addresses: [String])] = [], family: RunIPFamily = .ipv4) throws {
        guard family == .ipv4 || cluster.ipv6 else {
            throw AgentError("cluster '\(cluster.name)' has no IPv6: bring it up with `agent cluster up --ipv6` for an IPv6 run")
        }
        self.layout = layout
        self.cluster = cluster
        self.plan = plan
        self.extraDNSRecords = extraDNSRecords
        self.family = family
        addresses = try PodAddressPlan(plan: plan, cluster: cluster)
        services = ServicePlan(workload: plan.workload, addresses: addresses, cluster: cluster, family: family)
    }

    /// Builds everything; on error the caller still owns `teardown()`.
    public func deploy(progress: (String) -> Void = { _ in }) throws {
        try step { WorkloadCleanup.run(layout: layout) }  // leftovers of a killed run
        try step { try FileManager.default.createDirectory(atPath: layout.workloadDir, withIntermediateDirectories: true) }
        let dns = ClusterDNS(layout: layout)
        progress("starting cluster DNS on \(addresses.dnsPods.count) nodes")
        try step { try dns.writeRecords(dnsRecords) }
        var started: [(PodAddressPlan.DNSPod, pid_t)] = []
        for replica in addresses.dnsPods {
            guard let node = cluster.node(named: replica.node) else { continue }
            try step {
                let pid = try dns.start(pod: replica.name, on: node, ipv4: replica.ipv4, ipv6: replica.ipv6)
                processes["\(replica.name)/dnsmasq"] = pid
                started.append((replica, pid))
            }
        }
        for (replica, pid) in started {
            try step { try dns.waitUntilListening(pod: replica.name, ipv4: replica.ipv4, pid: pid) }
        }
        func resolv(_ node: String) throws -> String {
            guard let ip = addresses.dnsIP(onNode: node, family: family) else {
                throw AgentError("node \(node) has no \(family.rawValue) DNS replica")
            }
            return ResolvConf.clusterFirst(nameserver: ip, namespace: ServicePlan.namespace)
        }
        progress("creating \(addresses.pods.values.filter { !$0.hostNetwork }.count) pods")
        var hostNodes: Set<String> = []
        for d in plan.workload.all {
            guard let address = addresses.pods[d.name], let node = cluster.node(named: address.node) else { continue }
            try step {
                if address.hostNetwork {
                    // dnsPolicy ClusterFirstWithHostNet: the node's namespace gets the cluster resolver too.
                    if hostNodes.insert(node.name).inserted {
                        try ResolvConf.write(try resolv(node.name), namespace: layout.nodeNamespace(node.name))
                    }
                } else {
                    let ns = try PodNetwork(layout: layout, node: node).create(pod: d.name, ipv4: address.ipv4, ipv6: address.ipv6)
                    try ResolvConf.write(try resolv(node.name), namespace: ns)
                }
            }
        }
        progress("installing service tables on \(cluster.nodes.count) nodes")
        for node in cluster.nodes {
            try step { try ServiceProxy(layout: layout, node: node).install(services.rules[node.name] ?? []) }
        }
        progress("starting \(plan.workload.servers.count) echo servers")
        for d in plan.workload.servers where addresses.pods[d.name] != nil {
            for c in d.containers { try step { try startContainer(pod: d.name, container: c.name) } }
        }
        // A server's first readiness probe should not race its bind (json-mock's Node.js start would
        // take longer still). Bounded and not fatal: a server that never listens fails its probes.
        var listeners: [(ns: String, port: Int, pid: pid_t)] = []
        try step {
            for d in plan.workload.servers {
                for c in d.containers {
                    guard let ns = namespace(ofPod: d.name), let pid = processes["\(d.name)/\(c.name)"] else { continue }
                    listeners.append((ns, Int(c.env["PORT"] ?? "") ?? 80, pid))
                }
            }
        }
        // Outside the lock: a signal's teardown must not wait for these.
        for l in listeners { _ = ListenWait.wait(namespace: l.ns, port: l.port, pid: l.pid) }
    }

    /// What the cluster DNS answers: the Services, then the extra records.
    public var dnsRecords: [(name: String, addresses: [String])] { services.dnsRecords + extraDNSRecords }

    /// Every namespace a pod of this deployment runs in (the node's for hostNetwork pods).
    public var podNamespaces: [String] { Set(addresses.pods.keys.compactMap(namespace(ofPod:))).sorted() }

    /// The datapath configuration for this deployment's pods (DNS replicas included).
    public func enforcementPlan(resources: [Resource]) throws -> EnforcementPlan {
        try EnforcementPlan(resources: resources, plan: plan, addresses: addresses, services: services)
    }

    /// Namespace a pod's commands run in: its own, or the node's for hostNetwork pods.
    public func namespace(ofPod pod: String) -> String? {
        guard let address = addresses.pods[pod] else { return nil }
        return address.hostNetwork ? layout.nodeNamespace(address.node) : layout.podNamespace(pod)
    }

    /// Probes run through `ip netns exec`, which also bind-mounts the pod's resolv.conf.
    public var execProvider: WorkloadRunner.ExecProvider {
        { [self] pod, _, _ in
            guard let ns = namespace(ofPod: pod) else {
                return { _, _ in ProbeExecResult(exitCode: 127, output: "pod \(pod) has no namespace") }
            }
            let local = LocalCommandExec(prefix: ["ip", "netns", "exec", ns])
            return { command, timeout in await local.run(LocalProbeCommand.adapt(command), timeout: timeout) }
        }
    }

    /// Liveness restarts re-spawn the container's process; clients have none.
    public var restartHook: WorkloadRunner.RestartHook {
        { [self] pod, container, _ in
            guard plan.workload.servers.contains(where: { $0.name == pod }) else { return }
            try? step {
                if let pid = processes["\(pod)/\(container)"] { DetachedProcess.stop(pid, grace: 1) }
                try startContainer(pod: pod, container: container)
            }
        }
    }

    /// Stops processes, deletes pod namespaces, service tables, resolv.conf dirs and state files.
    public func teardown() {
        lock.lock()
        defer { lock.unlock() }
        tornDown = true
        for pid in processes.values { DetachedProcess.stop(pid, grace: 1) }
        processes = [:]
        WorkloadCleanup.run(layout: layout)
    }

    // MARK: private

    /// One deploy action under the lock; refuses once torn down (a signal arrived).
    private func step(_ body: () throws -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !tornDown else { throw AgentError("interrupted") }
        try body()
    }

    /// Echo containers run `echo-server` (json-mock's stand-in) with the container's env ($PORT).
    /// Caller holds the lock.
    private func startContainer(pod: String, container: String) throws {
        guard let d = plan.workload.servers.first(where: { $0.name == pod }),
              let c = d.containers.first(where: { $0.name == container }),
              let ns = namespace(ofPod: pod) else { return }
        let echo = DetachedProcess.executableDirectory + "/echo-server"
        var env = ProcessInfo.processInfo.environment
        for (k, v) in c.env { env[k] = v }
        let key = "\(pod)/\(container)"
        let base = "\(layout.workloadDir)/\(pod).\(container)"
        // A node namespace of an IPv4-only cluster has IPv6 disabled, where binding "::" fails.
        let address = addresses.pods[pod]?.hostNetwork == true && !cluster.ipv6 ? ["--address", "0.0.0.0"] : []
        let pid = try DetachedProcess.spawn(["nsenter", "--net=/run/netns/\(ns)", echo] + address,
                                            logPath: base + ".log", environment: env)
        processes[key] = pid
        try AtomicFile.write(Data("\(pid)\n".utf8), to: base + ".pid")
    }
}
