import Foundation

/// The cluster DNS: dnsmasq in a pod namespace of its own ("kube-dns"), answering only from a
/// hosts file (no upstream, no /etc/hosts) and NXDOMAIN for anything else under the cluster domain.
public struct ClusterDNS: Sendable {
    public static let podName = "kube-dns"
    public static let clusterDomain = "cluster.local"

    public let layout: StateLayout

    public init(layout: StateLayout) { self.layout = layout }

    public var namespace: String { layout.podNamespace(Self.podName) }
    public var hostsPath: String { layout.workloadDir + "/dns-hosts" }
    public var pidfile: String { layout.workloadDir + "/kube-dns.pid" }

    /// `records`: name -> addresses; several addresses give several A records (headless services).
    public static func hostsFile(_ records: [(name: String, addresses: [String])]) -> String {
        records.flatMap { r in r.addresses.map { "\($0) \(r.name)\n" } }.joined()
    }

    /// Creates the DNS pod on `node` with `ipv4` and starts dnsmasq; returns its pid.
    public func start(on node: ClusterSpec.NodeSpec, ipv4: String,
                      records: [(name: String, addresses: [String])]) throws -> pid_t {
        try FileManager.default.createDirectory(atPath: layout.workloadDir, withIntermediateDirectories: true)
        try AtomicFile.write(Data(Self.hostsFile(records).utf8), to: hostsPath)
        chmod(hostsPath, 0o644)
        try PodNetwork(layout: layout, node: node).create(pod: Self.podName, ipv4: ipv4)
        let dnsmasq = try Command.resolve("dnsmasq")
        let pid = try DetachedProcess.spawn(
            ["nsenter", "--net=/run/netns/\(namespace)", dnsmasq, "--keep-in-foreground", "--conf-file=/dev/null",
             "--no-resolv", "--no-hosts", "--addn-hosts=\(hostsPath)", "--local=/\(Self.clusterDomain)/",
             "--listen-address=\(ipv4)", "--bind-interfaces", "--user=root", "--pid-file=\(pidfile)",
             "--log-facility=-", "--cache-size=0"],
            logPath: layout.workloadDir + "/kube-dns.log")
        try waitUntilListening(ipv4, pid: pid)
        return pid
    }

    /// dnsmasq binds within milliseconds; waiting here keeps the first probes from racing it.
    private func waitUntilListening(_ ip: String, pid: pid_t) throws {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            guard DetachedProcess.isAlive(pid) else {
                throw AgentError("dnsmasq exited at start; see \(layout.workloadDir)/kube-dns.log")
            }
            if let r = try? Netns.exec(namespace, ["ss", "-Hlun", "src", ip, "sport", "= :53"]),
               r.status == 0, !r.stdout.isEmpty { return }
            usleep(20_000)
        }
        throw AgentError("dnsmasq did not listen on \(ip):53 within 5s")
    }
}
