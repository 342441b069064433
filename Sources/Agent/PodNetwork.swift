import Foundation

/// A workload pod's network: its own namespace behind a veth whose host side sits in the node's
/// namespace, wired exactly like the health endpoint (a /32 on `eth0`, the node's router IP as
/// gateway, a /32 route to the pod on the node).
public struct PodNetwork: Sendable {
    public let layout: StateLayout
    public let node: ClusterSpec.NodeSpec

    public init(layout: StateLayout, node: ClusterSpec.NodeSpec) {
        self.layout = layout
        self.node = node
    }

    /// Host-side interface name: `lxc` + 8 hex digits of the pod name, so any pod name fits the
    /// kernel's 15-byte IFNAMSIZ limit and the name is the same on every run (FNV-1a, not
    /// Swift's per-process seeded Hasher).
    public static func hostInterface(pod: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in pod.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return "lxc" + String(format: "%08x", hash)
    }

    /// Creates namespace, veth, addresses and routes; returns the pod's namespace name. `ipv6`
    /// (dual-stack clusters) is wired the same way through the node's IPv6 router address.
    @discardableResult
    /// `namespace` is the network namespace's name (`StateLayout.kubePodNamespace`).
    public func create(pod: String, ipv4: String, ipv6: String? = nil, namespace ns: String) throws -> String {
        let nodeNS = layout.nodeNamespace(node.name)
        let lxc = Self.hostInterface(pod: pod)
        try Netns.add(ns)
        if ipv6 != nil {
            // No duplicate address detection on either end of the veth: while the link-local
            // addresses are tentative (~1 s), neighbour discovery between pod and node fails and the
            // first DNS queries and connections over IPv6 are lost.
            try Netns.sysctl(ns, ["net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.accept_dad=0"])
            try Netns.sysctl(nodeNS, ["net.ipv6.conf.default.accept_dad=0"])
        }
        try Netns.ip(ns, "link", "set", "lo", "up")
        try Command.check(["ip", "-n", nodeNS, "link", "add", lxc, "type", "veth", "peer", "name", "eth0", "netns", ns])
        // The router IP on the host side too: the node answers the pod's ARP for its gateway even
        // while the agent is re-creating the health endpoint (which also carries it).
        try Netns.ip(nodeNS, "addr", "add", "\(node.routerIPv4)/32", "dev", lxc)
        try Netns.ip(nodeNS, "link", "set", lxc, "up")
        try Netns.ip(nodeNS, "route", "replace", "\(ipv4)/32", "dev", lxc)
        try Netns.ip(ns, "addr", "add", "\(ipv4)/32", "dev", "eth0")
        try Netns.ip(ns, "link", "set", "eth0", "up")
        try Netns.ip(ns, "route", "add", "\(node.routerIPv4)/32", "dev", "eth0")
        try Netns.ip(ns, "route", "add", "default", "via", node.routerIPv4, "dev", "eth0")
        if let ipv6, let router6 = node.routerIPv6 {
            // nodad: a fresh namespace's first connection must not race duplicate address detection.
            try Netns.ip(nodeNS, "-6", "addr", "add", "\(router6)/128", "dev", lxc, "nodad")
            try Netns.ip(nodeNS, "-6", "route", "replace", "\(ipv6)/128", "dev", lxc)
            try Netns.ip(ns, "-6", "addr", "add", "\(ipv6)/128", "dev", "eth0", "nodad")
            try Netns.ip(ns, "-6", "route", "add", "\(router6)/128", "dev", "eth0")
            try Netns.ip(ns, "-6", "route", "add", "default", "via", router6, "dev", "eth0")
        }
        return ns
    }

    /// Stops whatever runs inside and deletes the namespace (the veth pair goes with it).
    public static func remove(namespace ns: String) {
        for pid in Netns.pids(ns) { DetachedProcess.stop(pid, grace: 1) }
        Netns.delete(ns)
        ResolvConf.remove(namespace: ns)
    }
}
