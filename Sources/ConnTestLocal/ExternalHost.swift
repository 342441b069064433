import Agent
import Foundation

/// `conntest run --external-ip`: a host outside every node that the external checks reach for real.
/// Namespace `nh-<cluster>-ext` on the cluster bridge with 198.18.0.250/24, the external IP as a /32
/// on lo, `openssl s_server` (HTTPS, our CA) on 443 and `echo-server` on 80. Each node routes the
/// external IP via 198.18.0.250 and the host routes each pod range back via its node, so pods
/// reach it with their own address and nothing is NATed. `teardown()` is idempotent and may run
/// from a signal handler's queue while `start` is mid-way (both take the lock).
public final class ExternalHost: @unchecked Sendable {
    /// On the node subnet, above every node address (198.18.0.(10+i), i ≤ ClusterSpec.maxNodes).
    public static let linkAddress = "198.18.0.250"
    static let bridgePort = "ext0"
    static let ports = (https: 443, http: 80)

    public let layout: StateLayout
    public let cluster: ClusterSpec
    public let ip: String
    public let fqdn: String

    private let lock = NSLock()
    private var tornDown = false
    private var processes: [pid_t] = []
    /// The CA the HTTPS server's certificate chains to, once started.
    public private(set) var caPEM: String?

    /// `ip` must have passed `ExternalHostAddress.validate`.
    public init(layout: StateLayout, cluster: ClusterSpec, ip: String, fqdn: String) {
        self.layout = layout
        self.cluster = cluster
        self.ip = ip
        self.fqdn = fqdn
    }

    public var namespace: String { layout.externalNamespace }
    /// Certificates and server logs, removed with the host (and by `cluster down`, with the cluster's files).
    public var directory: String { Self.directory(layout) }
    public static func directory(_ layout: StateLayout) -> String { layout.clusterDir + "/external-host" }

    /// What the cluster DNS must answer for the external name.
    public var dnsRecords: [(name: String, addresses: [String])] { [(fqdn, [ip])] }

    /// Builds the host; `caPEM` is then what its clients must trust. On error the caller still owns `teardown()`.
    public func start(progress: (String) -> Void = { _ in }) throws {
        progress("starting external host \(ip) (\(fqdn)) in \(namespace)")
        try step { Self.removeLeftovers(layout: layout) }
        var certs: ExternalHostCertificates?
        try step { certs = try ExternalHostCertificates.generate(in: directory, ip: ip, fqdn: fqdn) }
        guard let certs else { throw AgentError("no certificates for the external host") }
        try step { try createNetwork() }
        try step {
            try startServer(["openssl", "s_server", "-accept", "\(ip):\(Self.ports.https)", "-cert", certs.serverCertificate,
                             "-key", certs.serverKey, "-www", "-quiet"], port: Self.ports.https, log: "https")
        }
        try step {
            let echo = DetachedProcess.executableDirectory + "/echo-server"
            try startServer([echo, "--address", ip, "--port", "\(Self.ports.http)"], port: Self.ports.http, log: "http")
        }
        let ca = try certs.caPEM()
        try step { caPEM = ca }
    }

    /// Stops the servers and removes namespace, routes, trust stores and files.
    public func teardown() {
        lock.lock()
        defer { lock.unlock() }
        tornDown = true
        for pid in processes { DetachedProcess.stop(pid, grace: 1) }
        processes = []
        Self.removeLeftovers(layout: layout)
    }

    /// Everything an external host of this cluster can have left, found by name, so it also cleans
    /// up after a killed run: the namespace (its veth goes with it) and whatever runs in it, the
    /// nodes' routes and neighbour entries for 198.18.0.250, files.
    public static func removeLeftovers(layout: StateLayout) {
        let ns = layout.externalNamespace
        if Netns.exists(ns) {
            for pid in Netns.pids(ns) { DetachedProcess.stop(pid, grace: 1) }
            Netns.delete(ns)
        }
        for node in Netns.list() where layout.ownsNamespace(node) && layout.isNodeNamespace(node) {
            let routes = (try? Command.run(["ip", "-n", node, "-4", "route", "show", "via", linkAddress]))?.stdout ?? ""
            for line in routes.split(separator: "\n") {
                guard let prefix = line.split(separator: " ").first else { continue }
                _ = try? Command.run(["ip", "-n", node, "route", "del", String(prefix), "via", linkAddress])
            }
            // The next run's host has a new MAC: a stale entry would black-hole its first probes.
            _ = try? Command.run(["ip", "-n", node, "neigh", "del", linkAddress, "dev", "eth0"])
        }
        try? FileManager.default.removeItem(atPath: directory(layout))
    }

    // MARK: private

    /// One setup action under the lock; refuses once torn down (a signal arrived).
    private func step(_ body: () throws -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !tornDown else { throw AgentError("interrupted") }
        try body()
    }

    private func createNetwork() throws {
        try Netns.add(namespace)
        try Netns.ip(namespace, "link", "set", "lo", "up")
        try ClusterNetwork.plugIntoBridge(namespace, port: Self.bridgePort, layout: layout)
        try Netns.sysctl(namespace, ["net.ipv6.conf.all.disable_ipv6=1"])  // the simulated host is IPv4-only
        try Netns.ip(namespace, "addr", "add", "\(Self.linkAddress)/\(ClusterSpec.nodeIPv4Prefix)", "dev", "eth0")
        try Netns.ip(namespace, "link", "set", "eth0", "up")
        try Netns.ip(namespace, "addr", "add", "\(ip)/32", "dev", "lo")
        for node in cluster.nodes {
            try Netns.ip(namespace, "route", "add", node.podCIDRv4, "via", node.ipv4)
            try Netns.ip(layout.nodeNamespace(node.name), "route", "replace", "\(ip)/32", "via", Self.linkAddress)
        }
    }

    /// Starts `args` inside the host's namespace and waits until it listens on `ip:port`. Caller holds the lock.
    private func startServer(_ args: [String], port: Int, log: String) throws {
        let logPath = "\(directory)/\(log).log"
        let pid = try DetachedProcess.spawn(["nsenter", "--net=/run/netns/\(namespace)"] + args, logPath: logPath)
        processes.append(pid)
        switch ListenWait.wait(namespace: namespace, port: port, address: ip, pid: pid) {
        case .listening: return
        case .exited: throw AgentError("\(args[0]) exited at start; see \(logPath)")
        case .timedOut: throw AgentError("\(args[0]) did not listen on \(ip):\(port) within 5s; see \(logPath)")
        }
    }
}
