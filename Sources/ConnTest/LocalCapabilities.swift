/// Features the local namespace cluster offers; a check needing a missing one is
/// skipped with a reason rather than failed (cilium-cli does the same with
/// "Feature X is disabled").
public struct LocalCapabilities: Sendable, Equatable {
    /// A reachable external address (pod-to-external-1111; locally also the FQDN check's host):
    /// `conntest run --external-ip` simulates one; the local cluster never reaches the internet.
    public var externalHost: Bool
    /// A name the FQDN check may resolve and reach; with the simulated host, whenever there is one.
    public var externalFQDN: Bool
    /// Why external checks are skipped when their target is missing (worded for the kind of run).
    public var noExternalReason: String
    /// An L7 proxy enforcing HTTP rules.
    public var l7Policy: Bool
    /// DNS-proxy-based toFQDNs enforcement.
    public var fqdnPolicy: Bool
    /// L3/L4 enforcement of CNPs and NetworkPolicies (the eBPF datapath). Off by default:
    /// without it a deny check would pass for the wrong reason, or fail though nothing is broken.
    public var policyEnforcement: Bool

    public static let noPolicyReason = "policy enforcement not available (a node's eBPF datapath did not load)"
    public static let noExternalHostReason = "no external host (pass --external-ip in 198.18.0.0/15 to simulate one)"
    /// A kubeconfig run assumes nothing of the internet: the user names what the pods may reach.
    public static let noExternalTargetReason = "no external target named (pass --external-ip, and --external-fqdn for the FQDN check, with hosts the cluster's pods can reach)"

    public init(externalHost: Bool = false, externalFQDN: Bool? = nil, noExternalReason: String = Self.noExternalHostReason,
                l7Policy: Bool = false, fqdnPolicy: Bool = false, policyEnforcement: Bool = false) {
        self.externalHost = externalHost
        self.externalFQDN = externalFQDN ?? externalHost
        self.noExternalReason = noExternalReason
        self.l7Policy = l7Policy
        self.fqdnPolicy = fqdnPolicy
        self.policyEnforcement = policyEnforcement
    }

    /// Why `check` cannot run here, or nil when it can.
    public func skipReason(for check: WorkloadDeployment, in workload: RunWorkload) -> String? {
        // The FQDN check (named so, as upstream's name-driven defaults have it) needs a name; the others an address.
        if check.traffic == .external && !(check.name.contains("fqdn") ? externalFQDN : externalHost) { return noExternalReason }
        let targets = workload.probeTargets(of: check)
        // Egress policies select the client; ingress policies select the server it probes.
        let relevant = workload.policies.filter { policy in
            guard let selected = policy.selectsName else { return false }
            return (selected == check.name && policy.directions.contains(.egress))
                || (targets.contains(selected) && policy.directions.contains(.ingress))
        }
        if !l7Policy && relevant.contains(where: \.hasL7HTTP) { return "unsupported locally: L7 rules" }
        if !fqdnPolicy && relevant.contains(where: \.hasFQDN) { return "unsupported locally: FQDN rules" }
        // Any policy selecting the client or its target changes what the probe may observe.
        if !policyEnforcement && !relevant.isEmpty { return Self.noPolicyReason }
        return nil
    }
}
