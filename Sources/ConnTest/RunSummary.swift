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
    /// Settled: ready, failed a threshold, pending or skipped. Anything else means the timeout won.
    public var inconclusive: Bool { unsettled > 0 }

    public var exitCode: RunExitCode {
        if settledFailures > 0 { return .failure }
        if inconclusive { return .inconclusive }
        return failed > 0 ? .failure : .success
    }
}
