import HTTPSupport
import HealthAPI

/// Where the prober learns the cluster's nodes: upstream asks the agent for diffs.
public protocol NodeSource: Sendable {
    func fetch(clientID: Int64) async throws -> ClusterNodeStatus
}

/// `GET /v1/cluster/nodes?client-id=N` on the agent's socket.
public struct AgentNodeSource: NodeSource {
    public let client: APIClient

    public init(agent: APIEndpoint) {
        client = APIClient(endpoint: agent, timeout: .seconds(5))
    }

    public func fetch(clientID: Int64) async throws -> ClusterNodeStatus {
        try await client.json(.GET, "/v1/cluster/nodes?client-id=\(clientID)", as: ClusterNodeStatus.self)
    }
}
