/// The six labels every generated object carries; the tag filters select on them.
public struct ResourceLabels: Equatable, Sendable {
    public var name: String
    public var topology: Topology
    public var component: Component
    public var traffic: Traffic
    public var quarantine: Bool
    public var type: CheckType

    public init(name: String, topology: Topology = .any, component: Component, traffic: Traffic = .internal,
                quarantine: Bool = false, type: CheckType = .autocheck) {
        self.name = name
        self.topology = topology
        self.component = component
        self.traffic = traffic
        self.quarantine = quarantine
        self.type = type
    }

    /// Same labels under another object name (services copy their deployment's labels).
    public func renamed(_ newName: String, topology: Topology? = nil) -> ResourceLabels {
        var copy = self
        copy.name = newName
        if let topology { copy.topology = topology }
        return copy
    }

    /// Emission order of the upstream files.
    var node: YAMLNode {
        .map([
            ("name", .string(name)),
            ("topology", .string(topology.rawValue)),
            ("component", .string(component.rawValue)),
            ("traffic", .string(traffic.rawValue)),
            ("quarantine", .string(quarantine ? "true" : "false")),
            ("type", .string(type.rawValue)),
        ])
    }
}

public enum Topology: String, CaseIterable, Sendable {
    case any
    case intraNode = "intra-node"
    case multiNode = "multi-node"
}

/// `component` label values; `-t component=X` selects `X-check`.
public enum Component: String, CaseIterable, Sendable {
    case network = "network-check"
    case services = "services-check"
    case nodeport = "nodeport-check"
    case hostport = "hostport-check"
    case policy = "policy-check"
    case proxy = "proxy-check"
    /// Not in the connectivity-check file: conntest's own cilium-health scenario (`--health-check`).
    case health = "health-check"
}

public enum Traffic: String, CaseIterable, Sendable {
    case any
    case `internal`
    case external
}

public enum CheckType: String, CaseIterable, Sendable {
    case autocheck
    case tool
}
