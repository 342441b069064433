/// The compiler's output: what to program into the datapath per pod, and what
/// the policies ask for that the datapath cannot do.
public struct CompiledPolicy: Sendable, Equatable {
    /// One pod's datapath configuration: `setEnforcement` flags and `allow` rules.
    public struct PodPolicy: Sendable, Equatable {
        public var name: String
        public var namespace: String
        public var egressEnforced: Bool
        public var ingressEnforced: Bool
        /// Sorted (PolicyRuleSpec order) and without duplicates.
        public var rules: [PolicyRuleSpec]
        /// Names of the policies selecting the pod, per direction, in input order.
        public var egressPolicies: [String]
        public var ingressPolicies: [String]

        public func rules(_ direction: PolicyFacts.Direction) -> [PolicyRuleSpec] {
            rules.filter { $0.direction == direction }
        }
    }

    public struct PolicySummary: Sendable, Equatable {
        public var kind: PolicyDocument.Kind
        public var name: String
        public var namespace: String
        /// Names of the pods the policy enforces, per direction (sorted).
        public var egressPods: [String]
        public var ingressPods: [String]
        public var unsupported: [UnsupportedPolicyFeature]
    }

    /// Every pod given to the compiler, sorted by namespace then name; pods no
    /// policy selects have no enforcement and no rules.
    public var pods: [PodPolicy]
    /// In input order.
    public var policies: [PolicySummary]

    public func pod(_ name: String, namespace: String? = nil) -> PodPolicy? {
        pods.first { $0.name == name && (namespace == nil || $0.namespace == namespace) }
    }

    /// Unsupported features of every policy named `policy` (any kind or namespace).
    public func unsupportedFeatures(ofPolicy policy: String) -> [UnsupportedPolicyFeature] {
        policies.filter { $0.name == policy }.flatMap(\.unsupported)
    }

    /// Features whose absence can change the outcome of `check`: restricting
    /// egress features of policies selecting the check's pod, restricting ingress
    /// features of policies selecting a pod it probes (`probeTargets`, deployment
    /// names). Pods are named after their deployment.
    public func unsupportedFeatures(affectingCheck check: String, probeTargets: Set<String>) -> [UnsupportedPolicyFeature] {
        var out: Set<UnsupportedPolicyFeature> = []
        for policy in policies {
            let egress = policy.egressPods.contains(check)
            let ingress = policy.ingressPods.contains { probeTargets.contains($0) }
            for feature in policy.unsupported where feature.restrictsTraffic {
                switch feature.direction {
                case .egress?: if egress { out.insert(feature) }
                case .ingress?: if ingress { out.insert(feature) }
                case nil: if egress || ingress { out.insert(feature) }
                }
            }
        }
        return out.sorted()
    }

    public func dependsOnUnsupportedFeatures(check: String, probeTargets: Set<String>,
                                             capabilities: LocalCapabilities = LocalCapabilities()) -> Bool {
        skipReason(forCheck: check, probeTargets: probeTargets, capabilities: capabilities) != nil
    }

    /// `unsupported locally: L7 rules / FQDN rules` style reason, or nil when the
    /// check's outcome depends only on enforceable rules. Features covered by
    /// `capabilities` (an L7 or DNS proxy) do not count.
    public func skipReason(forCheck check: String, probeTargets: Set<String>,
                           capabilities: LocalCapabilities = LocalCapabilities()) -> String? {
        let categories = Set(unsupportedFeatures(affectingCheck: check, probeTargets: probeTargets).map(\.category)
            .filter { !(capabilities.l7Policy && $0.needsL7Proxy) && !(capabilities.fqdnPolicy && $0.needsDNSProxy) })
        guard !categories.isEmpty else { return nil }
        var labels: [String] = []
        for category in UnsupportedPolicyFeature.Category.allCases where categories.contains(category) {
            if !labels.contains(category.skipLabel) { labels.append(category.skipLabel) }
        }
        return "unsupported locally: " + labels.joined(separator: " / ")
    }

    /// Same, with the probe targets taken from the workload's Services.
    public func skipReason(for check: WorkloadDeployment, in workload: RunWorkload,
                           capabilities: LocalCapabilities = LocalCapabilities()) -> String? {
        skipReason(forCheck: check.name, probeTargets: workload.probeTargets(of: check), capabilities: capabilities)
    }
}
