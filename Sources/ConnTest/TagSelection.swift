/// The upstream CUE tags (`-t key=value`) and the filters they drive.
public struct TagSelection: Equatable, Sendable {
    public enum ComponentTag: String, CaseIterable, Sendable {
        case all, `default`, network, policy, services, hostport, proxy
        /// The cilium-health scenario `run` adds (one check per node, not part of the generated files).
        case health
    }
    public enum TopologyTag: String, CaseIterable, Sendable {
        case any
        case singleNode = "single-node"
    }
    public enum TrafficTag: String, CaseIterable, Sendable {
        case any, `internal`, external
    }

    public var component: ComponentTag = .default
    public var kind: ResourceKind?
    public var name: String?
    public var quarantine = false
    public var topology: TopologyTag = .any
    public var traffic: TrafficTag = .any
    public var type: CheckType = .autocheck

    public init() {}

    public static let keys = ["component", "kind", "name", "quarantine", "topology", "traffic", "type"]
    static let kindValues: [ResourceKind] = [.deployment, .service, .ciliumNetworkPolicy]

    /// Parses `key=value` strings; later tags override earlier ones, as with cue.
    public static func parse(_ tags: [String]) throws -> TagSelection {
        var selection = TagSelection()
        for tag in tags { try selection.apply(tag) }
        return selection
    }

    public mutating func apply(_ tag: String) throws {
        guard let eq = tag.firstIndex(of: "=") else {
            throw ConnTestError("invalid tag \"\(tag)\": expected key=value with key one of \(Self.keys.joined(separator: "|"))")
        }
        let key = String(tag[..<eq])
        let value = String(tag[tag.index(after: eq)...])
        func pick<T>(_ all: [T], _ raw: (T) -> String) throws -> T {
            if let match = all.first(where: { raw($0) == value }) { return match }
            throw ConnTestError("invalid value \"\(value)\" for tag \(key) (valid values: \(all.map(raw).joined(separator: "|")))")
        }
        switch key {
        case "component": component = try pick(ComponentTag.allCases, \.rawValue)
        case "kind": kind = try pick(Self.kindValues, \.rawValue)
        case "name":
            guard !value.isEmpty else { throw ConnTestError("invalid value \"\" for tag name (valid values: any object name, e.g. pod-to-a)") }
            name = value
        case "quarantine": quarantine = try pick([false, true]) { $0 ? "true" : "false" }
        case "topology": topology = try pick(TopologyTag.allCases, \.rawValue)
        case "traffic": traffic = try pick(TrafficTag.allCases, \.rawValue)
        case "type": type = try pick(CheckType.allCases, \.rawValue)
        default:
            throw ConnTestError("unknown tag key \"\(key)\" (valid keys: \(Self.keys.joined(separator: "|")))")
        }
    }

    /// Applies the filters in upstream order: component, type, quarantine,
    /// topology, kind, name, traffic. Unlabelled objects are kept as they are.
    public func filter(_ resources: [Resource]) -> [Resource] {
        resources.filter { resource in
            guard let labels = resource.labels else { return true }
            return matchesComponent(labels.component)
                && labels.type == type
                && labels.quarantine == quarantine
                && (topology == .any || labels.topology != .multiNode)
                && (kind == nil || resource.kind == kind)
                && (name == nil || labels.name == name)
                && (traffic == .any || labels.traffic.rawValue == traffic.rawValue || labels.traffic == .any)
        }
    }

    private func matchesComponent(_ value: Component) -> Bool {
        switch component {
        case .all: return true
        // HostPort is off by default and the proxy checks need Envoy, so both stay out of the default set.
        case .default: return value != .hostport && value != .proxy
        case .network: return value == .network
        case .policy: return value == .policy
        case .services: return value == .services
        case .hostport: return value == .hostport
        case .proxy: return value == .proxy
        case .health: return value == .health
        }
    }

    /// Whether some check of the cilium-health scenario (`HealthCheckWorkload`, named
    /// `cilium-health-<node>`) passes these filters, before the nodes are known.
    public var mayMatchHealthChecks: Bool {
        matchesComponent(.health) && type == .autocheck && !quarantine && (kind == nil || kind == .deployment)
            && (name.map { $0.hasPrefix(HealthCheckWorkload.checkPrefix) } ?? true)
    }
}
