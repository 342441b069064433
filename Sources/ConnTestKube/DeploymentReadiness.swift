import KubeClient

/// apps/v1 Deployment, the fields cilium-cli's readiness predicate reads.
struct DeploymentState: Decodable, Sendable {
    struct Meta: Decodable, Sendable { var name: String?; var generation: Int? }
    struct Status: Decodable, Sendable {
        var observedGeneration: Int?
        var replicas: Int?
        var readyReplicas: Int?
        var availableReplicas: Int?
        var updatedReplicas: Int?
    }
    var metadata: Meta
    var status: Status?

    /// nil when ready; otherwise cilium-cli's words for what is missing (check/wait.go,
    /// k8s/client.go CheckDeploymentStatus): generation observed, replicas > 0, and
    /// available == ready == updated == replicas.
    var notReady: String? {
        let s = status ?? Status()
        let generation = metadata.generation ?? 0
        if (s.observedGeneration ?? 0) != generation {
            return "observed generation (\(s.observedGeneration ?? 0)) is older than generation of the desired state (\(generation))"
        }
        let replicas = s.replicas ?? 0
        if replicas == 0 { return "replicas count is zero" }
        if (s.availableReplicas ?? 0) != replicas { return "only \(s.availableReplicas ?? 0) of \(replicas) replicas are available" }
        if (s.readyReplicas ?? 0) != replicas { return "only \(s.readyReplicas ?? 0) of \(replicas) replicas are ready" }
        if (s.updatedReplicas ?? 0) != replicas { return "only \(s.updatedReplicas ?? 0) of \(replicas) replicas are updated" }
        return nil
    }
}

/// What an admission plugin or webhook said when it refused a Deployment's pods: the ReplicaSet
/// controller's `FailedCreate` event (cilium/cilium#35637: without it a run waits out its timeout).
enum AdmissionRejection {
    /// `pods "x" is forbidden: exceeded quota: …` for the newest FailedCreate of `deployment`'s ReplicaSets.
    /// `stale`: ReplicaSet uids whose events were there before this run applied anything (an
    /// earlier run's, in a namespace that outlives runs).
    static func message(for deployment: String, in events: [KubeEvent], stale: Set<String> = []) -> String? {
        let mine = events.filter { e in
            guard e.reason == "FailedCreate", e.involvedObject.kind == "ReplicaSet", let rs = e.involvedObject.name,
                  !stale.contains(e.involvedObject.uid ?? ""),
                  let dash = rs.lastIndex(of: "-") else { return false }
            // A ReplicaSet is `<deployment>-<pod-template-hash>`; the hash has no dash.
            return rs[..<dash] == deployment
        }
        guard let newest = mine.max(by: { ($0.lastTimestamp ?? "") < ($1.lastTimestamp ?? "") }), let text = newest.message else { return nil }
        let prefix = "Error creating: "
        return text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : text
    }

    /// The ReplicaSets that already have FailedCreate events.
    static func replicaSets(in events: [KubeEvent]) -> Set<String> {
        Set(events.filter { $0.reason == "FailedCreate" && $0.involvedObject.kind == "ReplicaSet" }.compactMap(\.involvedObject.uid))
    }
}
