// Status semantics shared by the CLI table, the verbose output and the metrics
// (upstream pkg/health/client: GetConnectivityStatusType, GetPathConnectivityStatusType,
// summarizeNodePaths, nodeIsHealthy).

/// Outcome of a probe, a path (IP) or a set of paths.
public enum ConnectivityReachability: Sendable, Hashable, CustomStringConvertible {
    case reachable
    case unreachable
    case unknown

    /// Upstream's `ConnectivityStatusType.String()`; also the metric label value.
    public var description: String {
        switch self {
        case .reachable: "reachable"
        case .unreachable: "unreachable"
        case .unknown: "unknown"
        }
    }

    /// One protocol's result: `nil` means never probed (unknown), an empty status text
    /// means success, anything else is the failure reason.
    public static func of(_ status: ConnectivityStatus?) -> ConnectivityReachability {
        guard let status else { return .unknown }
        return status.status.isEmpty ? .reachable : .unreachable
    }

    /// One IP: a missing path is unreachable; any unreachable protocol wins over unknown,
    /// which wins over reachable.
    public static func of(_ path: PathStatus?) -> ConnectivityReachability {
        guard let path else { return .unreachable }
        let results = [of(path.icmp), of(path.http)]
        if results.contains(.unreachable) { return .unreachable }
        if results.contains(.unknown) { return .unknown }
        return .reachable
    }
}

extension PathStatus {
    public var reachability: ConnectivityReachability { .of(self) }
}

/// Counts over a node's host or health-endpoint addresses, as the table prints them
/// (`<reachable>/<total>[ (<unknown> unknown)]`).
public struct PathSummary: Sendable, Equatable {
    public var reachable: Int
    public var unknown: Int
    public var total: Int
    /// No address is unreachable (unknown counts as healthy, as upstream).
    public var healthy: Bool

    public init(reachable: Int = 0, unknown: Int = 0, total: Int = 0, healthy: Bool = true) {
        self.reachable = reachable
        self.unknown = unknown
        self.total = total
        self.healthy = healthy
    }

    /// A missing HostStatus/EndpointStatus summarises as `0/0` and healthy; a missing primary
    /// address still counts towards the total, as an unreachable path.
    public init(_ addresses: AddressesStatus?) {
        self.init()
        guard let addresses else { return }
        let paths: [PathStatus?] = [addresses.primaryAddress] + addresses.secondaryAddresses.map { $0 }
        total = paths.count
        for path in paths {
            switch ConnectivityReachability.of(path) {
            case .reachable: reachable += 1
            case .unknown: unknown += 1
            case .unreachable: healthy = false
            }
        }
    }

    /// The table cell, e.g. `1/2 (1 unknown)`.
    public var cellText: String {
        unknown > 0 ? "\(reachable)/\(total) (\(unknown) unknown)" : "\(reachable)/\(total)"
    }
}

extension NodeStatus {
    public var hostSummary: PathSummary { PathSummary(host) }
    public var endpointSummary: PathSummary { PathSummary(healthEndpoint) }

    /// Counted in the `N/M reachable` numerator: no host and no health-endpoint address is
    /// unreachable. Unknown addresses and a missing host/endpoint status count as healthy.
    public var isHealthy: Bool { hostSummary.healthy && endpointSummary.healthy }

    /// Host primary then secondary paths (empty when there is no host status).
    public var hostPaths: [PathStatus?] {
        guard let host else { return [] }
        return [host.primaryAddress] + host.secondaryAddresses.map { $0 }
    }

    /// Health-endpoint primary then secondary paths (empty when there is no endpoint status).
    public var endpointPaths: [PathStatus?] {
        guard let healthEndpoint else { return [] }
        return [healthEndpoint.primaryAddress] + healthEndpoint.secondaryAddresses.map { $0 }
    }

    /// The table's IP cell: host primary IP (or `Unavailable`), then `,`-joined secondaries.
    public var tableIPText: String {
        var text = host?.primaryAddress?.ip ?? "Unavailable"
        for secondary in host?.secondaryAddresses ?? [] {
            text += "," + secondary.ip
        }
        return text
    }
}
