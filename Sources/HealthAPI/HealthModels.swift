// Models of the cilium-health REST API (base path /v1beta). JSON keys and
// omitempty rules follow upstream's swagger models exactly: users parse this JSON.

/// Result of one probe over one protocol. `status == ""` means success.
public struct ConnectivityStatus: Codable, Sendable, Equatable {
    /// Round-trip time in nanoseconds (omitted when 0).
    public var latency: Int64
    /// Empty on success, otherwise the error text.
    public var status: String
    /// RFC 3339 time the probe finished (omitted when absent).
    public var lastProbed: String?

    public init(latency: Int64 = 0, status: String = "", lastProbed: String? = nil) {
        self.latency = latency
        self.status = status
        self.lastProbed = lastProbed
    }

    enum CodingKeys: String, CodingKey { case latency, status, lastProbed }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        latency = try c.decodeIfPresent(Int64.self, forKey: .latency) ?? 0
        status = try c.decodeIfPresent(String.self, forKey: .status) ?? ""
        lastProbed = try c.decodeIfPresent(String.self, forKey: .lastProbed)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if latency != 0 { try c.encode(latency, forKey: .latency) }
        if !status.isEmpty { try c.encode(status, forKey: .status) }
        try c.encodeIfPresent(lastProbed, forKey: .lastProbed)
    }
}

/// Probe results for one IP address.
public struct PathStatus: Codable, Sendable, Equatable {
    public var ip: String
    public var icmp: ConnectivityStatus?
    public var http: ConnectivityStatus?

    public init(ip: String, icmp: ConnectivityStatus? = nil, http: ConnectivityStatus? = nil) {
        self.ip = ip
        self.icmp = icmp
        self.http = http
    }

    enum CodingKeys: String, CodingKey { case ip, icmp, http }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ip = try c.decodeIfPresent(String.self, forKey: .ip) ?? ""
        icmp = try c.decodeIfPresent(ConnectivityStatus.self, forKey: .icmp)
        http = try c.decodeIfPresent(ConnectivityStatus.self, forKey: .http)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if !ip.isEmpty { try c.encode(ip, forKey: .ip) }
        try c.encodeIfPresent(icmp, forKey: .icmp)
        try c.encodeIfPresent(http, forKey: .http)
    }
}

/// Connectivity to a node's own addresses (HostStatus) or to its health
/// endpoint (EndpointStatus): both have the same shape upstream.
public struct AddressesStatus: Codable, Sendable, Equatable {
    public var primaryAddress: PathStatus?
    /// Not omitempty upstream: always emitted, as `[]` when empty.
    public var secondaryAddresses: [PathStatus]

    public init(primaryAddress: PathStatus?, secondaryAddresses: [PathStatus] = []) {
        self.primaryAddress = primaryAddress
        self.secondaryAddresses = secondaryAddresses
    }

    enum CodingKeys: String, CodingKey {
        case primaryAddress = "primary-address"
        case secondaryAddresses = "secondary-addresses"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        primaryAddress = try c.decodeIfPresent(PathStatus.self, forKey: .primaryAddress)
        secondaryAddresses = try c.decodeIfPresent([PathStatus].self, forKey: .secondaryAddresses) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(primaryAddress, forKey: .primaryAddress)
        try c.encode(secondaryAddresses, forKey: .secondaryAddresses)
    }

    /// Primary first, then secondaries.
    public var allPaths: [PathStatus] {
        (primaryAddress.map { [$0] } ?? []) + secondaryAddresses
    }
}

public typealias HostStatus = AddressesStatus
public typealias EndpointStatus = AddressesStatus

/// Connectivity from the local node to one node of the cluster.
public struct NodeStatus: Codable, Sendable, Equatable {
    public var name: String
    public var host: HostStatus?
    public var healthEndpoint: EndpointStatus?
    /// Deprecated upstream; equals `healthEndpoint.primaryAddress`.
    public var endpoint: PathStatus?
    /// Not upstream: the node's Kubernetes state when it is NotReady or Unschedulable (see NodeElement).
    public var nodeState: [String]?
    /// Not upstream: true when the node was left out of probing for its `nodeState`; it then counts
    /// neither as reachable nor as unreachable.
    public var notProbed: Bool

    public init(name: String, host: HostStatus?, healthEndpoint: EndpointStatus?, nodeState: [String]? = nil,
                notProbed: Bool = false) {
        self.name = name
        self.host = host
        self.healthEndpoint = healthEndpoint
        self.endpoint = healthEndpoint?.primaryAddress
        self.nodeState = nodeState
        self.notProbed = notProbed
    }

    enum CodingKeys: String, CodingKey {
        case name, host, endpoint
        case healthEndpoint = "health-endpoint"
        case nodeState = "node-state"
        case notProbed = "not-probed"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        host = try c.decodeIfPresent(HostStatus.self, forKey: .host)
        healthEndpoint = try c.decodeIfPresent(EndpointStatus.self, forKey: .healthEndpoint)
        endpoint = try c.decodeIfPresent(PathStatus.self, forKey: .endpoint)
        nodeState = try c.decodeIfPresent([String].self, forKey: .nodeState)
        notProbed = try c.decodeIfPresent(Bool.self, forKey: .notProbed) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if !name.isEmpty { try c.encode(name, forKey: .name) }
        try c.encodeIfPresent(host, forKey: .host)
        try c.encodeIfPresent(healthEndpoint, forKey: .healthEndpoint)
        try c.encodeIfPresent(endpoint, forKey: .endpoint)
        try c.encodeIfPresent(nodeState, forKey: .nodeState)
        if notProbed { try c.encode(true, forKey: .notProbed) }
    }
}

public struct SelfStatus: Codable, Sendable, Equatable {
    public var name: String
    public init(name: String) { self.name = name }
}

/// Body of `GET /status` and `PUT /status/probe`.
public struct HealthStatusResponse: Codable, Sendable, Equatable {
    /// RFC 3339 start time of the published probe round.
    public var timestamp: String
    /// Go duration string of the current probe interval (omitted when absent).
    public var probeInterval: String?
    public var local: SelfStatus?
    /// Not omitempty upstream.
    public var nodes: [NodeStatus]

    public init(timestamp: String, probeInterval: String?, local: SelfStatus?, nodes: [NodeStatus]) {
        self.timestamp = timestamp
        self.probeInterval = probeInterval
        self.local = local
        self.nodes = nodes
    }

    enum CodingKeys: String, CodingKey { case timestamp, probeInterval, local, nodes }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        timestamp = try c.decodeIfPresent(String.self, forKey: .timestamp) ?? ""
        probeInterval = try c.decodeIfPresent(String.self, forKey: .probeInterval)
        local = try c.decodeIfPresent(SelfStatus.self, forKey: .local)
        nodes = try c.decodeIfPresent([NodeStatus].self, forKey: .nodes) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if !timestamp.isEmpty { try c.encode(timestamp, forKey: .timestamp) }
        try c.encodeIfPresent(probeInterval, forKey: .probeInterval)
        try c.encodeIfPresent(local, forKey: .local)
        try c.encode(nodes, forKey: .nodes)
    }
}

public struct LoadResponse: Codable, Sendable, Equatable {
    public var last1min: String
    public var last5min: String
    public var last15min: String
    public init(last1min: String, last5min: String, last15min: String) {
        self.last1min = last1min
        self.last5min = last5min
        self.last15min = last15min
    }
}

/// Body of `GET /healthz` on health.sock.
public struct HealthResponse: Codable, Sendable, Equatable {
    public var cilium: AgentStatusResponse
    /// Go duration string, e.g. "3h2m1.5s".
    public var uptime: String
    public var systemLoad: LoadResponse?

    public init(cilium: AgentStatusResponse, uptime: String, systemLoad: LoadResponse?) {
        self.cilium = cilium
        self.uptime = uptime
        self.systemLoad = systemLoad
    }

    enum CodingKeys: String, CodingKey {
        case cilium, uptime
        case systemLoad = "system-load"
    }
}

/// Error body upstream's go-swagger servers send with 4xx/5xx answers.
public struct APIError: Codable, Sendable, Equatable {
    public var message: String
    public init(message: String) { self.message = message }
}
