// Models of the agent API (cilium.sock, base path /v1) that the health daemon consumes.

/// `{state, msg}` as in upstream's agent `Status` model.
public struct ComponentStatus: Codable, Sendable, Equatable {
    public var state: String
    public var msg: String?
    public init(state: String, msg: String? = nil) {
        self.state = state
        self.msg = msg
    }
}

/// The subset of upstream's agent `StatusResponse` this agent reports.
public struct AgentStatusResponse: Codable, Sendable, Equatable {
    public var cilium: ComponentStatus?
    public var cluster: ClusterStatus?

    public init(cilium: ComponentStatus?, cluster: ClusterStatus? = nil) {
        self.cilium = cilium
        self.cluster = cluster
    }

    public struct ClusterStatus: Codable, Sendable, Equatable {
        public var ciliumHealth: ComponentStatus?
        public var nodes: [NodeElement]?
        public var self_: String?

        public init(ciliumHealth: ComponentStatus?, nodes: [NodeElement]?, self_: String?) {
            self.ciliumHealth = ciliumHealth
            self.nodes = nodes
            self.self_ = self_
        }

        enum CodingKeys: String, CodingKey {
            case ciliumHealth = "ciliumHealth"
            case nodes
            case self_ = "self"
        }
    }
}

/// One address of a node.
public struct NodeAddressingElement: Codable, Sendable, Equatable, Hashable {
    public var ip: String?
    public var enabled: Bool?
    public var addressType: String?
    public var allocRange: String?

    public init(ip: String?, enabled: Bool? = true, addressType: String? = nil, allocRange: String? = nil) {
        self.ip = ip
        self.enabled = enabled
        self.addressType = addressType
        self.allocRange = allocRange
    }

    enum CodingKeys: String, CodingKey {
        case ip, enabled
        case addressType = "address-type"
        case allocRange = "alloc-range"
    }
}

public struct NodeAddressing: Codable, Sendable, Equatable, Hashable {
    public var ipv4: NodeAddressingElement?
    public var ipv6: NodeAddressingElement?
    public init(ipv4: NodeAddressingElement?, ipv6: NodeAddressingElement?) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }
}

/// A node as the agent knows it.
public struct NodeElement: Codable, Sendable, Equatable, Hashable {
    public var name: String
    public var primaryAddress: NodeAddressing?
    public var secondaryAddresses: [NodeAddressingElement]?
    public var healthEndpointAddress: NodeAddressing?
    /// Not upstream: why the node is not expected to answer (`NotReady`, `Unschedulable`), from its
    /// Kubernetes Node; nil for a Ready, schedulable node. The health daemon lists such nodes with
    /// their state instead of probing them (unless told to probe them anyway).
    public var nodeState: [String]?

    public init(name: String, primaryAddress: NodeAddressing?, secondaryAddresses: [NodeAddressingElement]? = nil,
                healthEndpointAddress: NodeAddressing?, nodeState: [String]? = nil) {
        self.name = name
        self.primaryAddress = primaryAddress
        self.secondaryAddresses = secondaryAddresses
        self.healthEndpointAddress = healthEndpointAddress
        self.nodeState = nodeState
    }

    enum CodingKeys: String, CodingKey {
        case name
        case primaryAddress = "primary-address"
        case secondaryAddresses = "secondary-addresses"
        case healthEndpointAddress = "health-endpoint-address"
        case nodeState = "node-state"
    }
}

/// Body of `GET /v1/cluster/nodes?client-id=N`: a diff since the client's previous call (id 0 = full list).
public struct ClusterNodeStatus: Codable, Sendable, Equatable {
    public var clientID: Int64
    public var self_: String
    public var nodesAdded: [NodeElement]?
    public var nodesRemoved: [NodeElement]?

    public init(clientID: Int64, self_: String, nodesAdded: [NodeElement]?, nodesRemoved: [NodeElement]?) {
        self.clientID = clientID
        self.self_ = self_
        self.nodesAdded = nodesAdded
        self.nodesRemoved = nodesRemoved
    }

    enum CodingKeys: String, CodingKey {
        case clientID = "client-id"
        case self_ = "self"
        case nodesAdded = "nodes-added"
        case nodesRemoved = "nodes-removed"
    }
}
