/// The verdict of one check.
public enum CheckOutcome: String, Sendable, Equatable, CaseIterable {
    case pass, fail, pending, skipped
}

/// One row of the report.
public struct CheckResult: Sendable, Equatable {
    public var name: String
    public var component: String
    public var topology: String
    public var expect: CheckExpectation
    public var outcome: CheckOutcome
    /// Why skipped/pending, or why failed when there is no probe output (e.g. unsettled).
    public var reason: String?
    public var readySeconds: Double?
    public var restarts: Int
    public var lastFailure: String?
    /// Time from start to verdict (JUnit testcase time); 0 for pending/skipped.
    public var durationSeconds: Double
    /// False when the run timeout cut the check off before it settled.
    public var settled: Bool
    public var node: String?
    /// Policy drops of packets the check's pod sent (nil when the run had no datapath).
    public var drops: Int?

    public init(name: String, component: String, topology: String, expect: CheckExpectation, outcome: CheckOutcome,
                reason: String? = nil, readySeconds: Double? = nil, restarts: Int = 0, lastFailure: String? = nil,
                durationSeconds: Double = 0, settled: Bool = true, node: String? = nil) {
        self.name = name
        self.component = component
        self.topology = topology
        self.expect = expect
        self.outcome = outcome
        self.reason = reason
        self.readySeconds = readySeconds
        self.restarts = restarts
        self.lastFailure = lastFailure
        self.durationSeconds = durationSeconds
        self.settled = settled
        self.node = node
    }
}
