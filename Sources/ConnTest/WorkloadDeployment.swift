/// One Deployment as the local runner sees it: a single pod (the suite always
/// uses `replicas: 1`) with its containers, placement rules and expectation.
public struct WorkloadDeployment: Sendable, Equatable {
    public enum Role: String, Sendable { case server, check }

    public var name: String
    /// Suite labels; nil for the hand-written legacy documents that carry none.
    public var labels: ResourceLabels?
    /// Pod template labels (`name=<deployment>`), what affinity selectors match.
    public var podLabels: [String: String]
    public var hostNetwork: Bool
    public var containers: [ContainerRunSpec]
    public var affinity: [PodAffinityTerm]
    public var role: Role

    public init(name: String, labels: ResourceLabels?, podLabels: [String: String], hostNetwork: Bool,
                containers: [ContainerRunSpec], affinity: [PodAffinityTerm], role: Role) {
        self.name = name
        self.labels = labels
        self.podLabels = podLabels
        self.hostNetwork = hostNetwork
        self.containers = containers
        self.affinity = affinity
        self.role = role
    }

    /// Deny only when every probe is a negation; the two-container proxy checks
    /// are reported as allow (their Ready condition is the allow probe) while the
    /// reject container's deny probe surfaces as restarts.
    public var expectation: CheckExpectation {
        let probes = containers.flatMap { [$0.readinessProbe, $0.livenessProbe].compactMap { $0 } }
        return !probes.isEmpty && probes.allSatisfy { $0.expectation == .deny } ? .deny : .allow
    }

    public var componentName: String { labels?.component.rawValue ?? "-" }
    public var topology: Topology { labels?.topology ?? NameDrivenDefaults.topology(for: name) }
    public var traffic: Traffic { labels?.traffic ?? .internal }

    /// Extracts the runner model from a generated Deployment.
    public init(resource: Resource, role: Role) throws {
        let doc = resource.document
        let name = resource.name
        guard resource.kind == .deployment else {
            throw ConnTestError("\(name): not a Deployment (\(resource.kind.rawValue))")
        }
        if let replicas = doc.value(at: "spec", "replicas")?.looseIntValue, replicas != 1 {
            throw ConnTestError("deployment \(name): replicas \(replicas) is not supported locally (only 1)")
        }
        guard let podSpec = doc.value(at: "spec", "template", "spec"),
              let containerNodes = podSpec["containers"]?.arrayValue, !containerNodes.isEmpty else {
            throw ConnTestError("deployment \(name): no spec.template.spec.containers")
        }
        var podLabels: [String: String] = [:]
        for (k, v) in doc.value(at: "spec", "template", "metadata", "labels")?.mapPairs ?? [] {
            podLabels[k] = v.stringValue ?? ""
        }
        if podLabels.isEmpty { podLabels["name"] = name }
        self.init(name: name, labels: resource.labels, podLabels: podLabels,
                  hostNetwork: podSpec["hostNetwork"]?.boolValue ?? false,
                  containers: try containerNodes.map { try ContainerRunSpec(node: $0, deployment: name) },
                  affinity: try PodAffinityTerm.parse(podSpec["affinity"], deployment: name),
                  role: role)
    }
}
