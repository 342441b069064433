@testable import HealthAPI

/// Builders for test models.
enum Fixture {
    static func ok(_ latency: Int64, probed: String? = nil) -> ConnectivityStatus {
        ConnectivityStatus(latency: latency, status: "", lastProbed: probed)
    }

    static func failed(_ text: String, probed: String? = nil) -> ConnectivityStatus {
        ConnectivityStatus(latency: 0, status: text, lastProbed: probed)
    }

    static func path(_ ip: String, icmp: ConnectivityStatus?, http: ConnectivityStatus?) -> PathStatus {
        PathStatus(ip: ip, icmp: icmp, http: http)
    }

    static func node(_ name: String, host: PathStatus?, hostSecondaries: [PathStatus] = [],
                     endpoint: PathStatus?, endpointSecondaries: [PathStatus] = []) -> NodeStatus {
        NodeStatus(name: name,
                   host: AddressesStatus(primaryAddress: host, secondaryAddresses: hostSecondaries),
                   healthEndpoint: AddressesStatus(primaryAddress: endpoint, secondaryAddresses: endpointSecondaries))
    }

    /// The nodes of upstream's pkg/health/client testdata: node<i> at 192.168.1.<i>, 10ms RTTs.
    static func upstreamNode(_ i: Int, healthy: Bool, probed: Bool = false) -> NodeStatus {
        let ip = "192.168.1.\(i)"
        func status(_ minute: Int) -> ConnectivityStatus {
            let time = probed ? "2023-04-01T12:\(minute):00Z" : nil
            return healthy ? ok(10_000_000, probed: time) : failed("failed", probed: time)
        }
        return node("node\(i)", host: path(ip, icmp: status(35), http: status(30)),
                    endpoint: path(ip, icmp: status(45), http: status(40)))
    }

    static func upstreamResponse(_ nodes: [NodeStatus], interval: String?) -> HealthStatusResponse {
        HealthStatusResponse(timestamp: "2023-04-01T12:00:00Z", probeInterval: interval, local: nil, nodes: nodes)
    }
}

/// `text` followed by spaces up to `width` scalars (widths in tests are worked out by hand).
func cell(_ text: String, _ width: Int) -> String {
    text + String(repeating: " ", count: width - text.unicodeScalars.count)
}
