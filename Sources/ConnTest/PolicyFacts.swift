/// What a CiliumNetworkPolicy needs from the datapath, so the runner can skip
/// checks whose policy it cannot enforce locally instead of failing them.
public struct PolicyFacts: Sendable, Equatable {
    public enum Direction: String, Sendable { case egress, ingress }

    public var name: String
    /// `endpointSelector.matchLabels.name` (every suite policy selects by name).
    public var selectsName: String?
    public var directions: Set<Direction>
    /// HTTP rules need an L7 proxy (Envoy).
    public var hasL7HTTP: Bool
    public var hasFQDN: Bool

    public init(name: String, selectsName: String?, directions: Set<Direction>, hasL7HTTP: Bool, hasFQDN: Bool) {
        self.name = name
        self.selectsName = selectsName
        self.directions = directions
        self.hasL7HTTP = hasL7HTTP
        self.hasFQDN = hasFQDN
    }

    /// nil for objects that are not policies.
    public init?(resource: Resource) {
        if resource.kind == .networkPolicy {
            self.init(networkPolicy: resource)
            return
        }
        guard resource.kind == .ciliumNetworkPolicy else { return nil }
        let spec = resource.document["spec"]
        var directions: Set<Direction> = []
        var l7 = false
        var fqdn = false
        for direction in [Direction.egress, .ingress] {
            guard let rules = spec?[direction.rawValue]?.arrayValue else { continue }
            directions.insert(direction)
            for rule in rules {
                if !(rule["toFQDNs"]?.arrayValue ?? []).isEmpty { fqdn = true }
                for port in rule["toPorts"]?.arrayValue ?? [] where port.value(at: "rules", "http") != nil {
                    l7 = true
                }
            }
        }
        self.init(name: resource.name,
                  selectsName: spec?.value(at: "endpointSelector", "matchLabels", "name")?.stringValue,
                  directions: directions, hasL7HTTP: l7, hasFQDN: fqdn)
    }

    /// A networking.k8s.io NetworkPolicy (netpol-only variant): L3/L4 only, directions from policyTypes.
    private init(networkPolicy resource: Resource) {
        let spec = resource.document["spec"]
        var directions: Set<Direction> = []
        for t in spec?["policyTypes"]?.arrayValue ?? [] {
            if let d = t.stringValue.flatMap({ Direction(rawValue: $0.lowercased()) }) { directions.insert(d) }
        }
        // Kubernetes: without policyTypes, Ingress always applies and Egress when egress rules exist.
        if spec?["policyTypes"] == nil {
            directions.insert(.ingress)
            if spec?["egress"] != nil { directions.insert(.egress) }
        }
        self.init(name: resource.name,
                  selectsName: spec?.value(at: "podSelector", "matchLabels", "name")?.stringValue,
                  directions: directions, hasL7HTTP: false, hasFQDN: false)
    }
}
