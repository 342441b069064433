/// Which checks a run leaves out, and why: a check needing a feature the cluster lacks is skipped
/// with the reason before anything is applied (skipped checks are not deployed).
extension LocalCapabilities {
    /// Check name -> skip reason.
    public func skipReasons(for workload: RunWorkload) -> [String: String] {
        var skips: [String: String] = [:]
        for check in workload.checks {
            if let reason = skipReason(for: check, in: workload) { skips[check.name] = reason }
        }
        return skips
    }
}
