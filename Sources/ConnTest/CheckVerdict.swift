/// Turns the state of a check's pod at the end of the run into a verdict.
/// Pass = Ready and no restarts; fail = restarted, not Ready at the end, or its pod refused at creation.
public enum CheckVerdict {
    public static func result(for check: WorkloadDeployment, skipReason: String?, placement: PodPlacement?,
                              status: PodStatus?, durationSeconds: Double) -> CheckResult {
        var result = CheckResult(name: check.name, component: check.componentName, topology: check.topology.rawValue,
                                 expect: check.expectation, outcome: .skipped)
        if let skipReason {
            result.reason = skipReason
            return result
        }
        switch placement {
        case .pending(let reason)?:
            result.outcome = .pending
            result.reason = reason
            return result
        case .rejected(let reason)?:
            result.outcome = .fail
            result.reason = reason
            result.durationSeconds = durationSeconds
            return result
        case nil:
            result.outcome = .pending
            result.reason = "not scheduled"
            return result
        case .node(let node)?:
            result.node = node
        }
        guard let status else {
            result.outcome = .fail
            result.reason = "never started"
            result.settled = false
            return result
        }
        result.readySeconds = status.timeToFirstReady
        result.restarts = status.restarts
        result.lastFailure = status.lastFailure
        result.settled = status.settled
        result.durationSeconds = durationSeconds
        if let stuck = status.stuckWaiting {
            result.outcome = .fail
            result.reason = "container \(stuck)"
        } else if status.restarts > 0 {
            result.outcome = .fail
            result.reason = "restarted \(status.restarts) time\(status.restarts == 1 ? "" : "s") (liveness probe failed)"
        } else if status.ready {
            result.outcome = .pass
        } else {
            result.outcome = .fail
            result.reason = status.settled ? "not ready (readiness probe failed)" : "not ready before the run timeout"
        }
        return result
    }
}
