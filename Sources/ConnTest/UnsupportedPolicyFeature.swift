/// A policy construct the local L3/L4 datapath cannot enforce. The compiler keeps
/// the enforceable part (fail closed: an unsupported peer allows nothing) and
/// records the rest here, so the runner skips the affected checks instead of
/// reporting results that do not reflect the policy.
public struct UnsupportedPolicyFeature: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Category: String, Sendable, Hashable, CaseIterable {
        case l7HTTP = "rules.http"
        case l7DNS = "rules.dns"
        /// kafka, l7proto, TLS interception, listeners.
        case l7Other = "L7 rules"
        case fqdn = "toFQDNs"
        case entities = "entities"
        case cidr = "CIDR"
        case services = "toServices"
        case nodes = "nodes"
        case icmp = "icmps"
        case denyRules = "deny rules"
        case namedPort = "named port"
        case portRange = "endPort"
        case protocolNotSupported = "protocol"
        case hostPolicy = "nodeSelector"
        case other = "other"

        /// Wording of the runner's `skipped (unsupported locally: …)` reason; matches
        /// LocalCapabilities for the two categories it already knows.
        public var skipLabel: String {
            switch self {
            case .l7HTTP, .l7Other: return "L7 rules"
            case .l7DNS, .fqdn: return "FQDN rules"
            case .entities: return "entity rules"
            case .cidr: return "CIDR rules"
            case .services: return "service rules"
            case .nodes, .hostPolicy: return "node rules"
            case .icmp: return "ICMP rules"
            case .denyRules: return "deny rules"
            case .namedPort, .portRange, .protocolNotSupported: return "port rules"
            case .other: return "unknown policy fields"
            }
        }

        /// Needs an L7 proxy (LocalCapabilities.l7Policy) or the DNS proxy (fqdnPolicy).
        var needsL7Proxy: Bool { self == .l7HTTP || self == .l7Other }
        var needsDNSProxy: Bool { self == .l7DNS || self == .fqdn }
    }

    public var category: Category
    /// nil when the feature concerns the whole policy (e.g. an unknown spec field).
    public var direction: PolicyFacts.Direction?
    /// Path inside the document, e.g. `spec.egress[0].toFQDNs`.
    public var field: String
    /// False when ignoring the feature cannot change what passes: DNS rules that
    /// only match `*` (visibility for the DNS proxy) allow every query anyway.
    public var restrictsTraffic: Bool

    public init(category: Category, direction: PolicyFacts.Direction?, field: String, restrictsTraffic: Bool = true) {
        self.category = category
        self.direction = direction
        self.field = field
        self.restrictsTraffic = restrictsTraffic
    }

    public var description: String { "\(field) (\(category.rawValue))" }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.field < rhs.field }
}
