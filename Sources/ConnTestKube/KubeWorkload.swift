import ConnTest
import Foundation
import KubeClient

/// The objects of one run in one namespace of a cluster: the namespace made ready, every object
/// validated by the server before any is created, created in order, and deleted again.
public actor KubeWorkload {
    public static let managedByLabel = "app.kubernetes.io/managed-by"
    public static let managedByValue = "conntest"

    struct Applied: Sendable {
        var description: String
        var path: String
        var namespaced: Bool
    }

    public let namespace: String
    private let client: KubeClient
    private let map: APIResourceMap
    private var applied: [Applied] = []
    private var ownsNamespace = false
    private var cleanedUp = false

    public init(client: KubeClient, namespace: String) {
        self.client = client
        self.namespace = namespace
        map = APIResourceMap(client: client)
    }

    // MARK: namespace

    /// Creates the namespace, labelled as ours. An earlier run's namespace is deleted and waited for
    /// first (its pods would answer this run's probes); someone else's is used only when it holds
    /// no pods and no NetworkPolicies, which would change what the checks observe.
    public func prepareNamespace(deadline: ContinuousClock.Instant, progress: @Sendable (String) -> Void) async throws {
        let path = "/api/v1/namespaces/\(namespace)"
        if let existing = try await getOptional(path, as: KubeNamespace.self) {
            if existing.metadata.labels?[Self.managedByLabel] == Self.managedByValue || existing.status?.phase == "Terminating" {
                progress("deleting the namespace '\(namespace)' an earlier run left")
                try await deleteNamespace(deadline: deadline)
            } else {
                try await refuseIfOccupied()
                progress("using the existing namespace '\(namespace)'")
                return
            }
        }
        let ns = KubeNamespace(metadata: ObjectMeta(name: namespace, labels: [Self.managedByLabel: Self.managedByValue]))
        do {
            try await client.create("/api/v1/namespaces", ns)
        } catch let e as KubeAPIError where e.isAlreadyExists {
            throw KubeWorkloadError("namespace '\(namespace)' appeared while this run was creating it: is another run using it?")
        }
        ownsNamespace = true
        // Pods are refused until the namespace's default ServiceAccount exists.
        while try await getOptional("/api/v1/namespaces/\(namespace)/serviceaccounts/default", as: KubeObject.self) == nil {
            guard ContinuousClock.now < deadline else {
                throw KubeWorkloadError("namespace '\(namespace)' has no default ServiceAccount yet: is kube-controller-manager running?")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private func refuseIfOccupied() async throws {
        let pods = try await client.get("/api/v1/namespaces/\(namespace)/pods", as: ObjectList<KubeObject>.self).items
        let policies = try await client.get("/apis/networking.k8s.io/v1/namespaces/\(namespace)/networkpolicies",
                                            as: ObjectList<KubeObject>.self).items
        var found: [String] = pods.prefix(3).map { "pod \($0.metadata.name ?? "?")" }
        found += policies.prefix(3).map { "NetworkPolicy \($0.metadata.name ?? "?")" }
        guard found.isEmpty else {
            throw KubeWorkloadError("namespace '\(namespace)' was not made by conntest and holds \(found.joined(separator: ", ")): "
                                    + "they would change what the checks observe; use another namespace (-n) or empty this one")
        }
    }

    /// The namespace controller waits out each pod's grace period (30 s unless the manifest says
    /// otherwise) before it finishes; the checks' pods hold no state, so they are deleted at once
    /// (grace 0), which takes a run's cleanup from ~11 s to ~5 s.
    private func deleteNamespace(deadline: ContinuousClock.Instant) async throws {
        let path = "/api/v1/namespaces/\(namespace)"
        do { try await client.delete(path) } catch let e as KubeAPIError where e.isNotFound { return }
        let now = #"{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0}"#
        var podsLeft = true
        while try await getOptional(path, as: KubeNamespace.self) != nil {
            if podsLeft {
                // Again until none is left: a ReplicaSet may make a new pod until the GC removes it.
                try? await client.request(.DELETE, "\(path)/pods", body: Data(now.utf8))
                podsLeft = !((try? await client.get("\(path)/pods", as: ObjectList<KubeObject>.self).items.isEmpty) ?? false)
            }
            guard ContinuousClock.now < deadline else {
                throw KubeWorkloadError("namespace '\(namespace)' is still terminating: its finalizers have not finished")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    // MARK: objects

    /// Server-side dry run of every object: every rejection is named, and nothing is created.
    public func validate(_ resources: [Resource]) async throws {
        var problems: [String] = []
        for r in resources {
            do {
                _ = try await post(r, dryRun: true)
            } catch let e as KubeAPIError {
                problems.append("\(r.kind.rawValue) \(r.name): \(e.message)")
            }
        }
        guard problems.isEmpty else {
            throw KubeWorkloadError("the API server rejected \(problems.count) object\(problems.count == 1 ? "" : "s"), nothing was applied:\n  "
                                    + problems.joined(separator: "\n  "))
        }
    }

    /// Creates the objects in order; a cluster-scoped object an earlier run left is replaced.
    public func apply(_ resources: [Resource]) async throws {
        for r in resources {
            do {
                applied.append(try await post(r, dryRun: false))
            } catch let e as KubeAPIError where e.isAlreadyExists {
                let target = try await map.collectionPath(apiVersion: apiVersion(of: r), kind: r.kind.rawValue, namespace: namespace)
                let item = "\(target.path)/\(r.name)"
                let existing = try await client.get(item, as: KubeObject.self)
                guard existing.metadata.labels?[Self.managedByLabel] == Self.managedByValue else {
                    throw KubeWorkloadError("\(r.kind.rawValue) \(r.name) already exists and was not made by conntest")
                }
                try await client.delete(item)
                applied.append(try await post(r, dryRun: false))
            } catch let e as KubeAPIError {
                throw KubeWorkloadError("\(r.kind.rawValue) \(r.name): \(e.message)")
            }
        }
    }

    private func post(_ r: Resource, dryRun: Bool) async throws -> Applied {
        let target = try await map.collectionPath(apiVersion: apiVersion(of: r), kind: r.kind.rawValue, namespace: namespace)
        var doc = r.document.updating(["metadata"]) { meta in
            let labels = (meta["labels"] ?? .map([])).setting(Self.managedByLabel, to: .string(Self.managedByValue))
            return meta.setting("labels", to: labels)
        }
        if target.namespaced { doc = doc.updating(["metadata"]) { $0.setting("namespace", to: .string(namespace)) } }
        try await client.request(.POST, target.path + (dryRun ? "?dryRun=All" : ""), body: try doc.jsonData())
        return Applied(description: "\(r.kind.rawValue) \(r.name)", path: "\(target.path)/\(r.name)", namespaced: target.namespaced)
    }

    private func apiVersion(of r: Resource) -> String {
        r.document["apiVersion"]?.stringValue ?? "v1"
    }

    // MARK: cleanup

    /// Deletes what this run made and waits, bounded, until the namespace is gone. Returns what
    /// could not be removed (empty when clean).
    /// Only the first call does anything (a signal and the normal end may both ask).
    public func cleanup(deadline: ContinuousClock.Instant) async -> [String] {
        guard !cleanedUp else { return [] }
        cleanedUp = true
        var left: [String] = []
        for object in applied.reversed() where !(ownsNamespace && object.namespaced) {
            do { try await client.delete(object.path) } catch let e as KubeAPIError where e.isNotFound {} catch {
                left.append("\(object.description): \(error)")
            }
        }
        applied = []
        if ownsNamespace {
            do {
                try await deleteNamespace(deadline: deadline)
                ownsNamespace = false
            } catch {
                left.append("namespace \(namespace): \(error)")
            }
        }
        return left
    }

    private func getOptional<T: Decodable>(_ path: String, as: T.Type) async throws -> T? {
        do { return try await client.get(path, as: T.self) } catch let e as KubeAPIError where e.isNotFound { return nil }
    }
}
