import Foundation

/// Builds the local cluster's wiring: a bridge in a namespace of its own (never the host's, which
/// has a default route out of the machine) and one namespace per node plugged into it.
public struct ClusterNetwork {
    let layout: StateLayout
    let spec: ClusterSpec

    func create() throws {
        let br = layout.bridgeNamespace
        try Netns.add(br)
        try Netns.ip(br, "link", "set", "lo", "up")
        try Netns.ip(br, "link", "add", "br0", "type", "bridge")
        try Netns.ip(br, "link", "set", "br0", "up")
        try Netns.sysctl(br, ["net.ipv6.conf.all.disable_ipv6=1"])
        for node in spec.nodes { try createNode(node) }
    }

    /// Connects namespace `ns` to the cluster bridge: veth `port` enslaved to br0 in the bridge's
    /// namespace, `eth0` inside `ns` (left down and unaddressed for the caller).
    public static func plugIntoBridge(_ ns: String, port: String, layout: StateLayout) throws {
        try Command.check(["ip", "-n", layout.bridgeNamespace, "link", "add", port, "type", "veth",
                           "peer", "name", "eth0", "netns", ns])
        try Netns.ip(layout.bridgeNamespace, "link", "set", port, "master", "br0", "up")
    }

    /// The node's uplink as the bridge sees it.
    static func bridgePort(_ node: ClusterSpec.NodeSpec) -> String { "n\(node.index)" }

    /// One node's namespace and uplink; also used alone to rebuild a node whose namespace is gone.
    func createNode(_ node: ClusterSpec.NodeSpec) throws {
        let ns = layout.nodeNamespace(node.name)
        let port = Self.bridgePort(node)
        try Netns.add(ns)
        try Netns.ip(ns, "link", "set", "lo", "up")
        try Self.plugIntoBridge(ns, port: port, layout: layout)
        var sysctls = ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"]
        sysctls += spec.ipv6 ? ["net.ipv6.conf.all.forwarding=1"] : ["net.ipv6.conf.all.disable_ipv6=1"]
        try Netns.sysctl(ns, sysctls)
        try Netns.ip(ns, "addr", "add", "\(node.ipv4)/\(ClusterSpec.nodeIPv4Prefix)", "dev", "eth0")
        if let v6 = node.ipv6 {
            try Netns.ip(ns, "-6", "addr", "add", "\(v6)/\(ClusterSpec.nodeIPv6Prefix)", "dev", "eth0", "nodad")
        }
        try Netns.ip(ns, "link", "set", "eth0", "up")
        // Pod ranges of the other nodes are reached through that node's address, as a native-routing datapath does.
        for peer in spec.nodes where peer.index != node.index {
            try Netns.ip(ns, "route", "add", peer.podCIDRv4, "via", peer.ipv4)
            if let cidr = peer.podCIDRv6, let via = peer.ipv6 {
                try Netns.ip(ns, "-6", "route", "add", cidr, "via", via)
            }
        }
    }
}
