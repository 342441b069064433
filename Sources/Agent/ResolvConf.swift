import Foundation

/// Per-namespace resolv.conf: `ip netns exec NS` bind-mounts `/etc/netns/NS/resolv.conf` over
/// /etc/resolv.conf, which is how a pod gets the cluster DNS (kubelet writes one per pod).
public enum ResolvConf {
    public static let root = "/etc/netns"

    public static func directory(namespace ns: String) -> String { "\(root)/\(ns)" }

    /// Kubelet's ClusterFirst file: the namespace's search path and ndots:5.
    public static func clusterFirst(nameserver: String, namespace: String = "default",
                                    clusterDomain: String = "cluster.local") -> String {
        "nameserver \(nameserver)\n"
            + "search \(namespace).svc.\(clusterDomain) svc.\(clusterDomain) \(clusterDomain)\n"
            + "options ndots:5\n"
    }

    public static func write(_ text: String, namespace ns: String) throws {
        let dir = directory(namespace: ns)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try AtomicFile.write(Data(text.utf8), to: dir + "/resolv.conf")
    }

    public static func remove(namespace ns: String) {
        try? FileManager.default.removeItem(atPath: directory(namespace: ns))
    }

    /// Every directory a namespace of this cluster may have (also after a crash).
    public static func removeAll(owned layout: StateLayout) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for ns in entries where layout.ownsNamespace(ns) { remove(namespace: ns) }
        // Leave /etc/netns itself only if we emptied it (iproute2 does not need it to exist).
        if let rest = try? FileManager.default.contentsOfDirectory(atPath: root), rest.isEmpty {
            try? FileManager.default.removeItem(atPath: root)
        }
    }
}
