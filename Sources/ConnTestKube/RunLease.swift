import Foundation
import KubeClient

/// Who runs in a namespace: a coordination.k8s.io Lease `conntest-run` in it, created atomically,
/// renewed while the run lasts and deleted when it ends, so a second run against the same
/// namespace refuses instead of deleting the first one's pods. A lease its holder stopped renewing
/// (a killed run) expires and is taken over with the server's optimistic concurrency (resourceVersion).
actor RunLease {
    static let name = "conntest-run"
    static let durationSeconds = 30
    static let renewEvery: Duration = .seconds(10)

    let holder: String
    private let client: KubeClient
    private var path: String?
    private var current: Lease?
    private var renewal: Task<Void, Never>?

    init(client: KubeClient, holder: String) {
        self.client = client
        self.holder = holder
    }

    /// Takes the namespace's lease or throws naming the run that holds it.
    func acquire(namespace: String, note: @escaping @Sendable (String) -> Void) async throws {
        let collection = "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases"
        let item = "\(collection)/\(Self.name)"
        let mine = Lease(metadata: ObjectMeta(name: Self.name, namespace: namespace,
                                              labels: [KubeWorkload.managedByLabel: KubeWorkload.managedByValue]),
                         spec: fresh())
        do {
            current = try KubeClient.decode(Lease.self, try await client.create(collection, mine), path: collection)
        } catch let e as KubeAPIError where e.isAlreadyExists {
            var existing = try await client.get(item, as: Lease.self)
            if let busy = Self.heldBy(existing, now: Date()) {
                throw KubeWorkloadError("namespace '\(namespace)' is in use by another conntest run (\(busy)); "
                                        + "wait for it to finish, or pass -n NAME for a namespace of its own")
            }
            note("taking over the expired lease of \(existing.spec.holderIdentity ?? "an earlier run") in namespace '\(namespace)'")
            existing.spec = fresh()
            do {
                current = try KubeClient.decode(Lease.self, try await client.replace(item, existing), path: item)
            } catch let e as KubeAPIError where e.isConflict {
                throw KubeWorkloadError("namespace '\(namespace)' was just taken by another conntest run; "
                                        + "wait for it to finish, or pass -n NAME for a namespace of its own")
            }
        }
        path = item
        renewal?.cancel()
        renewal = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.renewEvery)
                guard !Task.isCancelled, let self else { return }
                await self.renew(note: note)
            }
        }
    }

    private func renew(note: @Sendable (String) -> Void) async {
        guard let path, var lease = current else { return }
        lease.spec = fresh()
        do {
            current = try KubeClient.decode(Lease.self, try await client.replace(path, lease), path: path)
        } catch {
            note("conntest: warning: could not renew the run's lease \(path): \(APIErrorText.line(error))")
        }
    }

    /// Stops renewing; deletes the lease when `delete` (a namespace that stays).
    func release(delete: Bool) async {
        renewal?.cancel()
        renewal = nil
        guard let path else { return }
        self.path = nil
        if delete { try? await client.delete(path) }
    }

    private func fresh() -> Lease.Spec {
        Lease.Spec(holderIdentity: holder, leaseDurationSeconds: Self.durationSeconds, renewTime: KubeTime.microTime(Date()))
    }

    /// "conntest pid 12 on host h, renewed 3 s ago", or nil when the lease has expired.
    static func heldBy(_ lease: Lease, now: Date) -> String? {
        guard let renewed = lease.spec.renewTime.flatMap(KubeTime.parse) else { return nil }
        let age = now.timeIntervalSince(renewed)
        guard age < Double(lease.spec.leaseDurationSeconds ?? durationSeconds) else { return nil }
        return "\(lease.spec.holderIdentity ?? "unknown holder"), lease renewed \(Int(max(0, age).rounded())) s ago"
    }
}
