/// Compiles policies into per-pod L3/L4 allow lists (pure: no namespaces, no BPF).
///
/// Semantics (Cilium and Kubernetes agree on these):
/// - a pod selected by any policy in a direction is default-deny in that direction,
///   and the allows of every selecting policy are unioned;
/// - policies select pods of their own namespace only (manifests without
///   `metadata.namespace` use `defaultNamespace`);
/// - peers without a namespace constraint are pods of the policy's namespace
///   (Cilium injects this for CNP endpoint selectors; Kubernetes for a peer without
///   `namespaceSelector`); CNP `k8s:io.kubernetes.pod.namespace` compares against
///   the pod's namespace, NetworkPolicy `namespaceSelector` against namespace labels
///   (`kubernetes.io/metadata.name` plus `namespaceLabels`);
/// - each matched peer becomes a /32 and/or /128 per port; no ports = any
///   protocol and port; no peer constraint = 0.0.0.0/0 and ::/0;
/// - a clusterwide policy (CCNP) selects, and its unconstrained peers match, pods of every namespace;
/// - hostNetwork pods are neither selected nor matched as peers (they carry the
///   node's identity, so pod-level policy does not apply to them).
public enum PolicyCompiler {
    public static func compile(policies: [PolicyDocument], pods: [PolicyPod], defaultNamespace: String = "default",
                               namespaceLabels: [String: [String: String]] = [:]) throws -> CompiledPolicy {
        // Validate every address first so a bad pod fails the same way whatever the policies.
        var prefixes: [Int: [String]] = [:]
        var seen: Set<String> = []
        for (i, pod) in pods.enumerated() {
            guard seen.insert("\(pod.namespace)/\(pod.name)").inserted else {
                throw ConnTestError("pod \(pod.namespace)/\(pod.name) is listed twice")
            }
            prefixes[i] = try pod.hostPrefixes()
        }
        let context = MatchContext(namespaceLabels: namespaceLabels)
        let podIndices = Array(pods.indices).filter { !pods[$0].hostNetwork }

        var enforced: [Int: Set<PolicyFacts.Direction>] = [:]
        var rules: [Int: Set<PolicyRuleSpec>] = [:]
        var selectedBy: [Int: [PolicyFacts.Direction: [String]]] = [:]
        var summaries: [CompiledPolicy.PolicySummary] = []

        for policy in policies {
            let namespace = policy.namespace ?? defaultNamespace
            let subjects = podIndices.filter { i in
                guard policy.clusterwide || pods[i].namespace == namespace, let subject = policy.subject else { return false }
                return subject.matches(context.labels(of: pods[i], for: policy.kind))
            }
            var summary = CompiledPolicy.PolicySummary(kind: policy.kind, name: policy.name, namespace: namespace,
                                                       egressPods: [], ingressPods: [], unsupported: policy.unsupported)
            for direction in [PolicyFacts.Direction.egress, .ingress] {
                guard let directionRules = policy.rules(direction), !subjects.isEmpty else { continue }
                let specs = directionRules.flatMap { rule in
                    specsFor(rule, direction: direction, policy: policy, namespace: namespace,
                             pods: pods, candidates: podIndices, prefixes: prefixes, context: context)
                }
                for i in subjects {
                    enforced[i, default: []].insert(direction)
                    rules[i, default: []].formUnion(specs)
                    selectedBy[i, default: [:]][direction, default: []].append(policy.name)
                }
                let names = subjects.map { pods[$0].name }.sorted()
                if direction == .egress { summary.egressPods = names } else { summary.ingressPods = names }
            }
            summaries.append(summary)
        }

        let result = pods.indices.map { i in
            CompiledPolicy.PodPolicy(name: pods[i].name, namespace: pods[i].namespace,
                                     egressEnforced: enforced[i]?.contains(.egress) ?? false,
                                     ingressEnforced: enforced[i]?.contains(.ingress) ?? false,
                                     rules: (rules[i] ?? []).sorted(),
                                     egressPolicies: selectedBy[i]?[.egress] ?? [],
                                     ingressPolicies: selectedBy[i]?[.ingress] ?? [])
        }.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        return CompiledPolicy(pods: result, policies: summaries)
    }

    /// Parses the policy objects among `resources` (Deployments and Services are ignored).
    public static func compile(resources: [Resource], pods: [PolicyPod], defaultNamespace: String = "default",
                               namespaceLabels: [String: [String: String]] = [:]) throws -> CompiledPolicy {
        try compile(policies: PolicyDocument.parse(resources), pods: pods, defaultNamespace: defaultNamespace,
                    namespaceLabels: namespaceLabels)
    }

    static let anywhere = ["0.0.0.0/0", "::/0"]

    private static func specsFor(_ rule: PolicyDocument.Rule, direction: PolicyFacts.Direction, policy: PolicyDocument,
                                 namespace: String, pods: [PolicyPod], candidates: [Int], prefixes: [Int: [String]],
                                 context: MatchContext) -> [PolicyRuleSpec] {
        let cidrs: [String]
        switch rule.peers {
        case .anywhere:
            cidrs = anywhere
        case .only(let peers):
            cidrs = candidates.filter { i in
                peers.contains { context.peer($0, matches: pods[i], kind: policy.kind,
                                              policyNamespace: policy.clusterwide ? nil : namespace) }
            }.flatMap { prefixes[$0] ?? [] }
        }
        let ports = rule.ports ?? [PolicyDocument.Port(proto: .any, port: 0)]
        return cidrs.flatMap { cidr in
            ports.map { PolicyRuleSpec(direction: direction, cidr: cidr, proto: $0.proto, port: $0.port) }
        }
    }

    /// The label views selectors are matched against.
    struct MatchContext {
        static let namespaceNameLabel = "kubernetes.io/metadata.name"
        /// Cilium exposes namespace labels on endpoints under this prefix.
        static let ciliumNamespaceLabelPrefix = "io.cilium.k8s.namespace.labels."

        var namespaceLabels: [String: [String: String]]

        func labels(ofNamespace namespace: String) -> [String: String] {
            var labels = namespaceLabels[namespace] ?? [:]
            labels[Self.namespaceNameLabel] = namespace
            return labels
        }

        /// CNP selectors (source prefix already stripped) also see the namespace
        /// as labels; NetworkPolicy pod selectors see the pod's labels only.
        func labels(of pod: PolicyPod, for kind: PolicyDocument.Kind) -> [String: String] {
            guard kind == .ciliumNetworkPolicy else { return pod.labels }
            var labels = pod.labels
            labels[CiliumPolicyParser.namespaceKey] = pod.namespace
            for (k, v) in self.labels(ofNamespace: pod.namespace) { labels[Self.ciliumNamespaceLabelPrefix + k] = v }
            return labels
        }

        /// `policyNamespace` nil: a clusterwide policy, whose peers match in every namespace.
        func peer(_ peer: PolicyDocument.Peer, matches pod: PolicyPod, kind: PolicyDocument.Kind,
                  policyNamespace: String?) -> Bool {
            switch peer.namespaces {
            case .policyNamespace: guard policyNamespace == nil || pod.namespace == policyNamespace else { return false }
            case .any: break
            case .matching(let selector): guard selector.matches(labels(ofNamespace: pod.namespace)) else { return false }
            }
            return peer.pods.matches(labels(of: pod, for: kind))
        }
    }
}
