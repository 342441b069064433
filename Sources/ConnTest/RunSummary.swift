/// Totals of a run and the exit code they imply.
public struct RunSummary: Sendable, Equatable {
    public var total: Int
    public var passed: Int
    public var failed: Int
    public var pending: Int
    public var skipped: Int
    /// Checks the run timeout cut off before they settled.
    public var unsettled: Int
    public var durationSeconds: Double

    public init(results: [CheckResult], durationSeconds: Double = 0) {
        total = results.count
        passed = results.filter { $0.outcome == .pass }.count
        failed = results.filter { $0.outcome == .fail }.count
        pending = results.filter { $0.outcome == .pending }.count
        skipped = results.filter { $0.outcome == .skipped }.count
        unsettled = results.filter { !$0.settled && ($0.outcome == .pass || $0.outcome == .fail) }.count
        settledFailures = results.filter { $0.outcome == .fail && $0.settled }.count
        self.durationSeconds = durationSeconds
    }

    /// Failures that settled (threshold hit or restart), as opposed to timed-out waits.
    public var settledFailures: Int
    /// Checks that actually ran; the denominator of the summary (as cilium-cli, totals exclude skips).
    public var executed: Int { passed + failed }
    /// The timeout won before every check settled, or no check ran at all (everything pending or
    /// skipped, or nothing selected): either way the run proved nothing, so it must not pass.
    public var inconclusive: Bool { unsettled > 0 || executed == 0 }

    /// Why the run is inconclusive, in the words the reports use; nil when it is not.
    public var inconclusiveReason: String? {
        if unsettled > 0 { return "\(unsettled)/\(executed) \(executed == 1 ? "check" : "checks") not settled before the run timeout" }
        if executed == 0 {
            if total == 0 { return "no check ran: the selection matched no check" }
            return "no check ran: \([pending > 0 ? "\(pending) pending" : nil, skipped > 0 ? "\(skipped) skipped" : nil].compactMap { $0 }.joined(separator: ", "))"
        }
        return nil
    }

    public var exitCode: RunExitCode {
        if settledFailures > 0 { return .failure }
        if inconclusive { return .inconclusive }
        return failed > 0 ? .failure : .success
    }
}
