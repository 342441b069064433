import Foundation

/// Services on one node, the way kube-proxy's nftables mode does them: a `nethealth_k8s` nat table
/// in the node's namespace that DNATs ClusterIPs, NodePorts and hostPorts to their endpoint.
/// Prerouting covers traffic from pods and other nodes; output covers hostNetwork clients.
public struct ServiceProxy: Sendable {
    /// The kube-proxy role's table (Services from the API).
    public static let kubernetesTable = "nethealth_k8s"
    /// Virtual service addresses; nothing answers on them without this node's table.
    public static let serviceCIDR = "198.18.128.0/20"
    /// IPv6 ClusterIPs (runs with `--ip-family ipv6`), outside the nodes' fd00:198::/64.
    public static let serviceCIDRv6 = "fd00:198:128::/112"
    /// Marks connections that must be masqueraded (NodePort to another node's backend).
    static let masqueradeMark = "0x4e480001"

    public struct Rule: Sendable, Equatable {
        public var daddr: String
        public var port: Int
        public var proto: String
        public var backend: String
        public var backendPort: Int
        /// The backend is on another node: the reply must come back through this node to be un-NATed.
        public var masquerade: Bool

        public init(daddr: String, port: Int, proto: String = "TCP", backend: String, backendPort: Int, masquerade: Bool = false) {
            self.daddr = daddr
            self.port = port
            self.proto = proto
            self.backend = backend
            self.backendPort = backendPort
            self.masquerade = masquerade
        }

        public var isIPv6: Bool { daddr.contains(":") }

        var nft: String {
            let l4 = proto.lowercased() == "udp" ? "udp" : "tcp"
            let mark = masquerade ? "meta mark set \(ServiceProxy.masqueradeMark) " : ""
            return isIPv6
                ? "ip6 daddr \(daddr) \(l4) dport \(port) \(mark)dnat to [\(backend)]:\(backendPort)"
                : "ip daddr \(daddr) \(l4) dport \(port) \(mark)dnat to \(backend):\(backendPort)"
        }
    }

    public let layout: StateLayout
    public let node: ClusterSpec.NodeSpec
    public let table: String

    public init(layout: StateLayout, node: ClusterSpec.NodeSpec, table: String = ServiceProxy.kubernetesTable) {
        self.layout = layout
        self.node = node
        self.table = table
    }

    /// The whole table (an `ip6` twin of the same name when there are IPv6 rules), replaced
    /// atomically (`nft -f` applies a file as one transaction). Numeric priorities (dstnat = -100,
    /// srcnat = 100): Debian 12's nft rejects `dstnat` on the output hook.
    public static func ruleset(_ rules: [Rule], table: String = ServiceProxy.kubernetesTable) -> String {
        func chain(_ name: String, _ type: String, _ hook: String, _ priority: String, _ text: String) -> String {
            "  chain \(name) {\n    type \(type) hook \(hook) priority \(priority); policy accept;\n\(text)  }\n"
        }
        func familyTable(_ family: String, _ rules: [Rule]) -> String {
            let body = rules.map { "    \($0.nft)\n" }.joined()
            return "table \(family) \(table) {\n"
                + chain("prerouting", "nat", "prerouting", "-100", body)
                + chain("output", "nat", "output", "-100", body)
                + chain("postrouting", "nat", "postrouting", "100", "    meta mark \(masqueradeMark) masquerade\n")
                + "}\n"
        }
        let v6 = rules.filter(\.isIPv6)
        return familyTable("ip", rules.filter { !$0.isIPv6 }) + (v6.isEmpty ? "" : familyTable("ip6", v6))
    }

    var namespace: String { layout.nodeNamespace(node.name) }

    public func install(_ rules: [Rule]) throws {
        Self.removeTable(table, namespace: namespace)
        let r = try Netns.exec(namespace, ["nft", "-f", "-"], input: Self.ruleset(rules, table: table))
        guard r.status == 0 else {
            throw AgentError("nft failed in \(namespace): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        // hostNetwork clients need a route to connect() at all; the output chain then rewrites the
        // destination. On-link via eth0: without the table, traffic to a ClusterIP fails (no ARP answer).
        try Netns.ip(namespace, "route", "replace", Self.serviceCIDR, "dev", "eth0")
        if rules.contains(where: \.isIPv6) {
            try Netns.ip(namespace, "-6", "route", "replace", Self.serviceCIDRv6, "dev", "eth0")
        }
    }

    /// Idempotent; safe on a node that never had the table.
    public static func remove(namespace ns: String, table: String = ServiceProxy.kubernetesTable) {
        removeTable(table, namespace: ns)
        _ = try? Command.run(["ip", "-n", ns, "route", "del", serviceCIDR])
        _ = try? Command.run(["ip", "-n", ns, "-6", "route", "del", serviceCIDRv6])
    }

    static func removeTable(_ table: String, namespace ns: String) {
        for family in ["ip", "ip6"] { _ = try? Netns.exec(ns, ["nft", "delete", "table", family, table]) }
    }

    /// Whether the node still has `table` (someone may have flushed it).
    public static func hasTable(_ table: String, namespace ns: String) -> Bool {
        (try? Netns.exec(ns, ["nft", "list", "table", "ip", table]))?.status == 0
    }
}
