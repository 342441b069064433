import Foundation
import HTTPSupport
import HealthAPI
import HealthHistory

/// The cluster-wide view the heatmap draws: every node's own `GET /v1beta/status`, asked at once.
public enum ClusterView {
    /// Statuses by the node's own name; an API that does not answer is reported, not fatal (its row stays unknown).
    public static func gather(_ endpoints: [APIEndpoint], timeout: Duration = .seconds(5)) async
        -> (statuses: [String: HealthStatusResponse], failures: [String]) {
        await withTaskGroup(of: (APIEndpoint, Result<HealthStatusResponse, any Error>).self) { group in
            for endpoint in endpoints {
                group.addTask {
                    do {
                        let status = try await APIClient(endpoint: endpoint, timeout: timeout)
                            .json(.GET, "/v1beta/status", as: HealthStatusResponse.self)
                        return (endpoint, .success(status))
                    } catch {
                        return (endpoint, .failure(error))
                    }
                }
            }
            var statuses: [String: HealthStatusResponse] = [:], failures: [String] = []
            for await (endpoint, result) in group {
                switch result {
                case .success(let status): statuses[status.local?.name ?? "\(endpoint)"] = status
                case .failure(let error): failures.append("\(endpoint): \(error)")
                }
            }
            return (statuses, failures.sorted())
        }
    }

    /// The heatmap SVG of `statuses`.
    public static func heatmap(_ statuses: [String: HealthStatusResponse], now: Date = Date()) -> String {
        let (nodes, cells) = Heatmap.cells(from: statuses)
        return Heatmap.svg(nodes: nodes, cells: cells,
                           title: "Latest ICMP RTT of each node's host path, as each node's status shows it (\(RFC3339.string(now)))")
    }
}
