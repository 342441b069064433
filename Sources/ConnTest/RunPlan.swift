/// What will run where: skip decisions first (skipped checks take no node),
/// then the schedule of servers and the remaining checks.
public struct RunPlan: Sendable {
    public var workload: RunWorkload
    public var schedule: Schedule
    /// Check name -> skip reason.
    public var skipReasons: [String: String]

    public init(workload: RunWorkload, nodeCount: Int, capabilities: LocalCapabilities = LocalCapabilities()) throws {
        self.workload = workload
        var skips: [String: String] = [:]
        for check in workload.checks {
            if let reason = capabilities.skipReason(for: check, in: workload) { skips[check.name] = reason }
        }
        skipReasons = skips
        // Servers first: checks' affinity terms point at them.
        let pods = workload.servers + workload.checks.filter { skips[$0.name] == nil }
        schedule = try PodScheduler(nodeCount: nodeCount).schedule(pods)
    }
}
