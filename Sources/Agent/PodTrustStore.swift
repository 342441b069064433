import Foundation

/// A pod's CA bundle, as its container image would carry one. `ip netns exec NS` bind-mounts every
/// entry of /etc/netns/NS over /etc, so /etc/netns/NS/ssl replaces /etc/ssl for the probes and curl
/// reads Debian's default CAfile /etc/ssl/certs/ca-certificates.crt from here: the pod trusts
/// exactly these CAs, and the probe command stays upstream's.
public enum PodTrustStore {
    static let subdirectory = "ssl"
    static let bundle = "ssl/certs/ca-certificates.crt"

    public static func path(namespace ns: String) -> String { ResolvConf.directory(namespace: ns) + "/" + bundle }

    public static func write(_ pem: String, namespace ns: String) throws {
        try AtomicFile.write(Data(pem.utf8), to: path(namespace: ns))
        chmod(path(namespace: ns), 0o644)
    }

    /// Removes the namespace's `ssl` entry, and its /etc/netns directory if nothing else is left in it.
    public static func remove(namespace ns: String) {
        let dir = ResolvConf.directory(namespace: ns)
        try? FileManager.default.removeItem(atPath: dir + "/" + subdirectory)
        if let rest = try? FileManager.default.contentsOfDirectory(atPath: dir), rest.isEmpty {
            try? FileManager.default.removeItem(atPath: dir)
        }
    }
}
