import KubeClient

/// apiVersion + kind → REST collection path, from the server's discovery documents as kubectl
/// finds them, so any kind the server serves (a CRD's too) can be applied and nothing is hard-coded.
public actor APIResourceMap {
    struct Entry: Sendable { var plural: String; var namespaced: Bool }

    private let client: KubeClient
    private var groups: [String: [String: Entry]] = [:]

    public init(client: KubeClient) { self.client = client }

    /// `/api/v1/namespaces/ns/pods` or `/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies`.
    public func collectionPath(apiVersion: String, kind: String, namespace: String) async throws -> (path: String, namespaced: Bool) {
        let entry = try await lookup(apiVersion: apiVersion, kind: kind)
        let base = apiVersion.contains("/") ? "/apis/\(apiVersion)" : "/api/\(apiVersion)"
        return (entry.namespaced ? "\(base)/namespaces/\(namespace)/\(entry.plural)" : "\(base)/\(entry.plural)", entry.namespaced)
    }

    private func lookup(apiVersion: String, kind: String) async throws -> Entry {
        if groups[apiVersion] == nil {
            struct ResourceList: Decodable {
                struct Item: Decodable { var name: String; var kind: String; var namespaced: Bool }
                var resources: [Item]
            }
            let path = apiVersion.contains("/") ? "/apis/\(apiVersion)" : "/api/\(apiVersion)"
            let list: ResourceList
            do {
                list = try await client.get(path, as: ResourceList.self)
            } catch let e as KubeAPIError where e.isNotFound {
                throw KubeWorkloadError("the API server does not serve \(apiVersion) (needed for \(kind))"
                                        + (apiVersion.hasPrefix("cilium.io/") ? ": are Cilium's CRDs installed?" : ""))
            }
            var kinds: [String: Entry] = [:]
            // Subresources (`pods/status`) share their parent's kind.
            for item in list.resources where !item.name.contains("/") {
                kinds[item.kind] = Entry(plural: item.name, namespaced: item.namespaced)
            }
            groups[apiVersion] = kinds
        }
        guard let entry = groups[apiVersion]?[kind] else {
            throw KubeWorkloadError("the API server has no kind \(kind) in \(apiVersion)")
        }
        return entry
    }
}

/// A workload the API server would not take, or a run the cluster cannot host (usage/setup: exit 2).
public struct KubeWorkloadError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
