import Foundation
import KubeClient

/// The world outside a local cluster, as its nodes see it: hosts that stand in for internet
/// addresses (`conntest run --external-ip` makes one) and the CA their HTTPS is signed with, as
/// the ConfigMap `kube-system/nethealth-simulated-internet` publishes them. The DNS role answers
/// the names; the kubelet role gives pods the CA the way their image would carry a public one.
public struct SimulatedInternet: Sendable, Equatable {
    public static let namespace = "kube-system"
    public static let name = "nethealth-simulated-internet"
    public static var path: String { "/api/v1/namespaces/\(namespace)/configmaps/\(name)" }

    /// Name → addresses.
    public var hosts: [(name: String, addresses: [String])]
    public var caPEM: String?

    public init(hosts: [(name: String, addresses: [String])], caPEM: String?) {
        self.hosts = hosts
        self.caPEM = caPEM
    }

    public static func == (a: SimulatedInternet, b: SimulatedInternet) -> Bool {
        a.caPEM == b.caPEM && a.hosts.map { "\($0.name) \($0.addresses)" } == b.hosts.map { "\($0.name) \($0.addresses)" }
    }

    /// `hosts` holds `address name` lines, as /etc/hosts.
    public var configMap: KubeConfigMap {
        let lines = hosts.flatMap { h in h.addresses.map { "\($0) \(h.name)" } }
        var data = ["hosts": lines.joined(separator: "\n") + "\n"]
        if let caPEM { data["ca.crt"] = caPEM }
        return KubeConfigMap(metadata: ObjectMeta(name: Self.name, namespace: Self.namespace), data: data)
    }

    public init(_ configMap: KubeConfigMap) {
        var byName: [String: [String]] = [:]
        var order: [String] = []
        for line in (configMap.data?["hosts"] ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, !fields[0].hasPrefix("#") else { continue }
            for name in fields.dropFirst() {
                if byName[String(name)] == nil { order.append(String(name)) }
                byName[String(name), default: []].append(String(fields[0]))
            }
        }
        self.init(hosts: order.map { ($0, byName[$0] ?? []) }, caPEM: configMap.data?["ca.crt"])
    }

    /// The published view, or nil when there is none.
    public static func fetch(_ client: KubeClient) async throws -> SimulatedInternet? {
        try await client.getIfPresent(path, as: KubeConfigMap.self).map(SimulatedInternet.init)
    }

    /// Creates or replaces the ConfigMap.
    public func publish(_ client: KubeClient) async throws {
        do {
            try await client.create("/api/v1/namespaces/\(Self.namespace)/configmaps", configMap)
        } catch let e as KubeAPIError where e.isAlreadyExists {
            try await client.replace(Self.path, configMap)
        }
    }

    public static func withdraw(_ client: KubeClient) async throws {
        do { try await client.delete(path) } catch let e as KubeAPIError where e.isNotFound {}
    }
}
