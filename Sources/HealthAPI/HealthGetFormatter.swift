// Text output of `cilium-health get` (upstream cilium-health/cmd/get.go plus the part of
// pkg/client FormatStatusResponse(…, StatusNoDetails) that this agent's status model covers).

public enum HealthGetFormatter {
    /// Aligned with upstream's tabwriter settings (minwidth 2, tabwidth 0, padding 3, ' ').
    public static func format(_ response: HealthResponse) -> String {
        TabWriter.align(formatUnaligned(response))
    }

    /// Tab-separated text before alignment.
    public static func formatUnaligned(_ response: HealthResponse) -> String {
        var out = "Daemon uptime:\t\(response.uptime)\n"
        let load = response.systemLoad
        out += "Node load:\t\(load?.last1min ?? "") \(load?.last5min ?? "") \(load?.last15min ?? "")\n"
        out += formatAgentStatus(response.cilium)
        return out
    }

    /// The lines upstream's FormatStatusResponse prints without details, restricted to the
    /// fields `AgentStatusResponse` models. The node monitor and the proxy are not modelled,
    /// so they print as upstream prints absent ones.
    public static func formatAgentStatus(_ status: AgentStatusResponse) -> String {
        var out = ""
        if let cilium = status.cilium {
            // Upstream separates state and message with three spaces, not a tab.
            out += "Cilium:\t\(cilium.state)   \(cilium.msg ?? "")\n"
        }
        out += "NodeMonitor:\tDisabled\n"
        if let health = status.cluster?.ciliumHealth {
            out += "Cilium health daemon:\t\(health.state)\t\(health.msg ?? "")\n"
        }
        out += "Proxy Status:\tNo managed proxy redirect\n"
        return out
    }
}
