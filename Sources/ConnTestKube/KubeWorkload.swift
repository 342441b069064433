import ConnTest
import Foundation
import KubeClient

/// What the end of a run removes.
public enum CleanupScope: Sendable {
    /// Nothing (`--no-cleanup`): the workload stays for `kubectl describe`.
    case nothing
    /// The objects the run applied and, in conntest's namespace, their ReplicaSets and pods, waited
    /// for; conntest's namespace itself stays, empty and labelled, for the next run (the default).
    /// Deleting a namespace costs at least 5 s on any cluster: the namespace controller waits that
    /// long (`namespaceDeletionGracePeriod`, fixed upstream) before it starts removing content.
    case workload
    /// As `workload`, and a namespace conntest made is deleted and waited for (`--cleanup`).
    case namespace
}

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
    /// The namespace is conntest's (labelled so: made by this run or an earlier one), so cleanup may
    /// drain its pods or delete it whole.
    public var ownsTheNamespace: Bool { ownsNamespace }
    private let client: KubeClient
    private let map: APIResourceMap
    private var applied: [Applied] = []
    private var ownsNamespace = false
    private var cleanedUp = false
    private var lease: RunLease?

    public init(client: KubeClient, namespace: String) {
        self.client = client
        self.namespace = namespace
        map = APIResourceMap(client: client)
    }

    // MARK: namespace

    /// Makes the namespace this run's: takes its run lease (a second run against it refuses, naming
    /// the first), then creates it labelled as ours, or reuses ours: what an earlier run left in it
    /// (`--no-cleanup`, a killed run) is removed and its pods waited for first, as they would answer
    /// this run's probes. Someone else's namespace is used only when it holds no pods and no (Cilium)
    /// NetworkPolicies, which would change what the checks observe, unless `allowOccupied`.
    /// Clusterwide Cilium policies are warned about: they may select the run's pods.
    public func prepareNamespace(deadline: ContinuousClock.Instant, holder: String, allowOccupied: Bool = false,
                                 progress: @escaping @Sendable (String) -> Void) async throws {
        let path = "/api/v1/namespaces/\(namespace)"
        let lease = RunLease(client: client, holder: holder)
        self.lease = lease
        if let existing = try await client.getIfPresent(path, as: KubeNamespace.self) {
            if existing.status?.phase == "Terminating" {
                // It takes no new objects (nor a lease) until it is gone.
                progress("waiting for the namespace '\(namespace)' to finish terminating")
                try await deleteNamespace(deadline: deadline)
            } else {
                try await lease.acquire(namespace: namespace, note: progress)
                if existing.metadata.labels?[Self.managedByLabel] == Self.managedByValue {
                    ownsNamespace = true
                    let removed = try await removeLeftovers(deadline: deadline)
                    progress("reusing the namespace '\(namespace)' an earlier run made"
                             + (removed > 0 ? " (removed the \(removed) object\(removed == 1 ? "" : "s") it left)" : ""))
                    try await waitForDefaultServiceAccount(deadline: deadline)
                } else {
                    try await refuseIfOccupied(allow: allowOccupied, progress: progress)
                    progress("using the existing namespace '\(namespace)'")
                }
                await warnAboutClusterwidePolicies(progress)
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
        do {
            try await lease.acquire(namespace: namespace, note: progress)
        } catch let held as KubeWorkloadError {
            // Another run took the lease between our create and our acquire: the namespace is
            // its to use and remove now, not ours to remove from under it.
            ownsNamespace = false
            throw held
        }
        try await waitForDefaultServiceAccount(deadline: deadline)
        await warnAboutClusterwidePolicies(progress)
    }

    /// Pods are refused until the namespace's default ServiceAccount exists.
    private func waitForDefaultServiceAccount(deadline: ContinuousClock.Instant) async throws {
        while try await client.getIfPresent("/api/v1/namespaces/\(namespace)/serviceaccounts/default", as: KubeObject.self) == nil {
            guard ContinuousClock.now < deadline else {
                throw KubeWorkloadError("namespace '\(namespace)' has no default ServiceAccount yet: is kube-controller-manager running?")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The kinds a run applies into its namespace, as collection paths (CiliumNetworkPolicy only
    /// where the CRD is served).
    private var workloadCollections: [String] {
        ["/apis/apps/v1/namespaces/\(namespace)/deployments", "/api/v1/namespaces/\(namespace)/services",
         "/apis/networking.k8s.io/v1/namespaces/\(namespace)/networkpolicies", "/apis/cilium.io/v2/namespaces/\(namespace)/ciliumnetworkpolicies"]
    }

    /// In conntest's namespace: deletes every object labelled as a run's (an earlier run's
    /// leftovers), then drains the pods. Returns how many objects it deleted.
    private func removeLeftovers(deadline: ContinuousClock.Instant) async throws -> Int {
        let selector = KubeClient.labelSelectorQuery("\(Self.managedByLabel)=\(Self.managedByValue)")
        var removed = 0
        for collection in workloadCollections {
            let items: [KubeObject]
            do {
                items = try await client.get("\(collection)?\(selector)", as: ObjectList<KubeObject>.self).items
            } catch let e as KubeAPIError where e.isNotFound { continue }  // a kind the server does not serve
            for name in items.compactMap(\.metadata.name) {
                do { try await client.delete("\(collection)/\(name)"); removed += 1 } catch let e as KubeAPIError where e.isNotFound {}
            }
        }
        try await drainPods(deadline: deadline)
        return removed
    }

    /// In conntest's namespace, once its Deployments are deleted: removes their ReplicaSets and
    /// pods at once rather than waiting for the garbage collector, and waits, bounded, until none is
    /// left. The pods get a 1 s grace period (they hold no state), so a pod is gone from the API only
    /// once its kubelet stopped it; one its kubelet does not confirm within 10 s (a node that is down)
    /// is force-deleted, as the namespace controller would. Done when no ReplicaSet and no pod showed
    /// up for 300 ms: a Deployment controller that had not yet seen its Deployment go may still make
    /// a ReplicaSet right after the first sweep.
    private func drainPods(deadline: ContinuousClock.Instant) async throws {
        func options(grace: Int) -> Data {
            Data(#"{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":\#(grace),"propagationPolicy":"Background"}"#.utf8)
        }
        let ns = "/api/v1/namespaces/\(namespace)"
        let replicaSets = "/apis/apps/v1/namespaces/\(namespace)/replicasets"
        let forceAt = ContinuousClock.now + .seconds(10)
        var quietSince: ContinuousClock.Instant?
        while true {
            try? await client.request(.DELETE, replicaSets, body: options(grace: 0))
            try? await client.request(.DELETE, "\(ns)/pods", body: options(grace: ContinuousClock.now < forceAt ? 1 : 0))
            let left = try await client.get("\(ns)/pods", as: ObjectList<KubeObject>.self).items.count
                + client.get(replicaSets, as: ObjectList<KubeObject>.self).items.count
            if left > 0 {
                quietSince = nil
            } else if let quietSince {
                if ContinuousClock.now - quietSince >= .milliseconds(300) { return }
            } else {
                quietSince = .now
            }
            guard ContinuousClock.now < deadline else {
                throw KubeWorkloadError("pods of namespace '\(namespace)' are still terminating")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private func refuseIfOccupied(allow: Bool, progress: @Sendable (String) -> Void) async throws {
        var found = try await list("/api/v1/namespaces/\(namespace)/pods").map { "pod \($0)" }
        found += try await list("/apis/networking.k8s.io/v1/namespaces/\(namespace)/networkpolicies").map { "NetworkPolicy \($0)" }
        found += (try await listIfServed("/apis/cilium.io/v2/namespaces/\(namespace)/ciliumnetworkpolicies") ?? [])
            .map { "CiliumNetworkPolicy \($0)" }
        guard !found.isEmpty else { return }
        let named = found.prefix(5).joined(separator: ", ") + (found.count > 5 ? " and \(found.count - 5) more" : "")
        guard allow else {
            throw KubeWorkloadError("namespace '\(namespace)' was not made by conntest and holds \(named): "
                                    + "they would change what the checks observe; use another namespace (-n), empty this one, "
                                    + "or pass --allow-occupied-namespace to run beside them")
        }
        progress("conntest: warning: namespace '\(namespace)' holds \(named) (--allow-occupied-namespace): results may reflect them")
    }

    private func warnAboutClusterwidePolicies(_ progress: @Sendable (String) -> Void) async {
        do {
            guard let names = try await listIfServed("/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies"), !names.isEmpty else { return }
            progress("conntest: warning: \(names.count) CiliumClusterwideNetworkPolic\(names.count == 1 ? "y" : "ies") "
                     + "(\(names.prefix(5).joined(separator: ", "))) may select this run's pods and change what the checks observe")
        } catch {
            progress("conntest: warning: cannot list CiliumClusterwideNetworkPolicies (\(APIErrorText.line(error))): "
                     + "a clusterwide policy may change what the checks observe")
        }
    }

    private func list(_ path: String) async throws -> [String] {
        try await client.get(path, as: ObjectList<KubeObject>.self).items.map { $0.metadata.name ?? "?" }
    }

    /// nil when the server does not serve the kind (the CRD is not installed).
    private func listIfServed(_ path: String) async throws -> [String]? {
        do { return try await list(path) } catch let e as KubeAPIError where e.isNotFound { return nil }
    }

    /// Deletes the namespace (one already terminating is waited for) and waits, bounded, until it
    /// is gone. The namespace controller starts 5 s after the delete (fixed upstream) and then waits
    /// out each pod's grace period (30 s unless the manifest says otherwise); the checks' pods hold
    /// no state, so they are deleted at once (grace 0), which takes a deletion from ~11 s to ~5 s.
    private func deleteNamespace(deadline: ContinuousClock.Instant) async throws {
        let path = "/api/v1/namespaces/\(namespace)"
        do { try await client.delete(path) } catch let e as KubeAPIError where e.isNotFound { return } catch let e as KubeAPIError where e.isConflict {}
        let now = #"{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0}"#
        var podsLeft = true
        while try await client.getIfPresent(path, as: KubeNamespace.self) != nil {
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

    /// A NodePort Service admission refused (cilium-cli#1275) though the same Service as ClusterIP passes.
    public struct NodePortRefusal: Sendable, Equatable {
        public var service: String
        public var nodePorts: [Int]
        public var message: String
    }

    /// Server-side dry run of every object: every rejection is named, and nothing is created.
    /// A NodePort Service that admission refuses is applied as ClusterIP instead (its other checks
    /// keep their target) and returned, so the checks probing its node ports can be skipped with the
    /// reason; RBAC refusing the dry run ends the validation at once (every object would say the same).
    public func validate(_ resources: [Resource]) async throws -> (resources: [Resource], refusedNodePorts: [NodePortRefusal]) {
        var problems: [String] = []
        var out: [Resource] = []
        var refused: [NodePortRefusal] = []
        for r in resources {
            do {
                _ = try await post(r, dryRun: true)
                out.append(r)
            } catch let e as KubeAPIError where e.isAuthorizationDenied || e.isUnauthorized {
                throw e
            } catch let e as KubeAPIError {
                // Admission refuses with 403 (a quota, a webhook); 422 is the object itself (a port taken).
                if e.code != 422, let clusterIP = Self.asClusterIP(r), (try? await post(clusterIP, dryRun: true)) != nil {
                    let ports = (r.document.value(at: "spec", "ports")?.arrayValue ?? []).compactMap { $0["nodePort"]?.looseIntValue }
                    refused.append(NodePortRefusal(service: r.name, nodePorts: ports, message: e.message))
                    out.append(clusterIP)
                } else {
                    problems.append("\(r.kind.rawValue) \(r.name): \(e.message)")
                }
            }
        }
        guard problems.isEmpty else {
            throw KubeWorkloadError("the API server rejected \(problems.count) object\(problems.count == 1 ? "" : "s"), nothing was applied:\n  "
                                    + problems.joined(separator: "\n  "))
        }
        return (out, refused)
    }

    /// The Service as type ClusterIP (node ports dropped); nil unless it is a NodePort Service.
    static func asClusterIP(_ r: Resource) -> Resource? {
        guard r.kind == .service, r.document.value(at: "spec", "type")?.stringValue == "NodePort" else { return nil }
        var out = r
        out.document = r.document.updating(["spec"]) { spec in
            let ports = (spec["ports"]?.arrayValue ?? []).map { port in
                YAMLNode.map((port.mapPairs ?? []).filter { $0.0 != "nodePort" })
            }
            return spec.setting("type", to: .string("ClusterIP")).setting("ports", to: .seq(ports))
        }
        return out
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
            } catch let e as KubeAPIError where e.isAuthorizationDenied || e.isUnauthorized {
                throw e
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

    /// Removes what `scope` says (see `CleanupScope`), bounded by `deadline`; the run's lease is
    /// given back in every case. Returns what could not be removed (empty when clean).
    /// Only the first call does anything (a signal and the normal end may both ask).
    public func cleanup(deadline: ContinuousClock.Instant, scope: CleanupScope) async -> [String] {
        guard !cleanedUp else { return [] }
        cleanedUp = true
        let deletesNamespace = ownsNamespace && scope == .namespace
        await lease?.release(delete: !deletesNamespace)
        guard scope != .nothing else { return [] }
        var left: [String] = []
        for object in applied.reversed() where !(deletesNamespace && object.namespaced) {
            do { try await client.delete(object.path) } catch let e as KubeAPIError where e.isNotFound {} catch {
                left.append("\(object.description): \(APIErrorText.line(error))")
            }
        }
        applied = []
        guard ownsNamespace else { return left }
        do {
            if deletesNamespace {
                try await deleteNamespace(deadline: deadline)
                ownsNamespace = false
            } else {
                try await drainPods(deadline: deadline)
            }
        } catch {
            left.append("namespace \(namespace): \(APIErrorText.line(error))")
        }
        return left
    }
}
