import Foundation
import HTTPSupport

/// `agent cluster policy`: the node agents' policy datapaths, through their API.
extension LocalCluster {
    public enum PolicyAction: String, CaseIterable, Sendable {
        /// `POST /v1/policy/detach`: programs off every pod veth until `attach`.
        case detach
        /// `POST /v1/policy/attach`: the next sync (within a second) programs them again.
        case attach
        /// `GET /v1/policy`.
        case status
    }

    /// `nodes` empty: every node. Asks every node before reporting the first failure.
    public func policy(_ action: PolicyAction, nodes: [String]) async throws -> [PolicyStatus] {
        let spec = try loadSpec()
        let known = spec.nodes.map(\.name)
        for node in nodes where !known.contains(node) {
            throw AgentError("no node '\(node)' in cluster '\(name)'; nodes: \(known.joined(separator: ", "))")
        }
        var out: [PolicyStatus] = []
        var failures: [String] = []
        for node in nodes.isEmpty ? known : nodes {
            let client = APIClient(endpoint: .unix(path: layout.agentSocket(node)), timeout: .seconds(10))
            do {
                switch action {
                case .status: out.append(try await client.json(.GET, "/v1/policy", as: PolicyStatus.self))
                case .detach, .attach: out.append(try await client.json(.POST, "/v1/policy/\(action.rawValue)", as: PolicyStatus.self))
                }
            } catch {
                failures.append("\(node): \(error)")
            }
        }
        if !failures.isEmpty { throw AgentError("policy \(action.rawValue) failed on " + failures.joined(separator: "; ")) }
        return out
    }
}
