import Foundation

/// The cluster DNS: one dnsmasq replica per node, each in a pod namespace of its own
/// ("kube-dns-<node>", labelled like CoreDNS), all answering from one shared hosts file (no
/// upstream, no /etc/hosts) and NXDOMAIN for anything else under the cluster domain. A replica per
/// node keeps name resolution local, so a node cut off from the others fails only its cross-node
/// checks, as with node-local DNS upstream.
public struct ClusterDNS: Sendable {
    public static let podNamePrefix = "kube-dns-"
    public static let clusterDomain = "cluster.local"
    /// What policies see of a replica: CoreDNS's namespace and labels.
    public static let policyNamespace = "kube-system"
    public static let policyLabels = ["k8s-app": "kube-dns"]

    public let layout: StateLayout
    /// Where the hosts file, pidfiles and logs live.
    let directory: String
    /// The network namespace of a replica's pod.
    let namespaceOf: @Sendable (String) -> String

    public init(layout: StateLayout, directory: String, namespaceOf: @escaping @Sendable (String) -> String) {
        self.layout = layout
        self.directory = directory
        self.namespaceOf = namespaceOf
    }

    public static func podName(node: String) -> String { podNamePrefix + node }

    public var hostsPath: String { directory + "/dns-hosts" }
    public func pidfile(pod: String) -> String { directory + "/\(pod).pid" }
    public func logPath(pod: String) -> String { directory + "/\(pod).log" }

    /// `records`: name -> addresses; several addresses give several A records (headless services).
    public static func hostsFile(_ records: [(name: String, addresses: [String])]) -> String {
        records.flatMap { r in r.addresses.map { "\($0) \(r.name)\n" } }.joined()
    }

    /// Writes the hosts file every replica serves.
    public func writeRecords(_ records: [(name: String, addresses: [String])]) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFile.write(Data(Self.hostsFile(records).utf8), to: hostsPath)
        chmod(hostsPath, 0o644)
    }

    /// Creates the replica's pod on `node` with `ipv4` and starts dnsmasq in it; returns its pid
    /// without waiting (see `waitUntilListening`), so replicas on many nodes start together.
    public func start(pod: String, on node: ClusterSpec.NodeSpec, ipv4: String, ipv6: String? = nil) throws -> pid_t {
        let ns = try PodNetwork(layout: layout, node: node).create(pod: pod, ipv4: ipv4, ipv6: ipv6, namespace: namespaceOf(pod))
        let dnsmasq = try Command.resolve("dnsmasq")
        let listen = ([ipv4] + (ipv6.map { [$0] } ?? [])).map { "--listen-address=\($0)" }
        return try DetachedProcess.spawn(
            ["nsenter", "--net=/run/netns/\(ns)", dnsmasq, "--keep-in-foreground", "--conf-file=/dev/null",
             "--no-resolv", "--no-hosts", "--addn-hosts=\(hostsPath)", "--local=/\(Self.clusterDomain)/"]
                + listen + ["--bind-interfaces", "--user=root", "--pid-file=\(pidfile(pod: pod))",
                            "--log-facility=-", "--cache-size=0"],
            logPath: logPath(pod: pod))
    }

    /// dnsmasq binds within milliseconds; waiting here keeps the first probes from racing it.
    public func waitUntilListening(pod: String, ipv4: String, pid: pid_t) throws {
        switch ListenWait.wait(namespace: namespaceOf(pod), port: 53, address: ipv4, udp: true, pid: pid) {
        case .listening: return
        case .exited: throw AgentError("dnsmasq of \(pod) exited at start; see \(logPath(pod: pod))")
        case .timedOut: throw AgentError("dnsmasq of \(pod) did not listen on \(ipv4):53 within 5s")
        }
    }
}
