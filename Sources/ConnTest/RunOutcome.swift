import Foundation

/// Everything a finished (or timed-out) run produced.
public struct RunOutcome: Sendable {
    public var results: [CheckResult]
    public var summary: RunSummary
    /// Echo servers' final state, to explain check failures caused by a dead server.
    public var servers: [String: PodStatus]
    public var startedAt: Date
    public var timeoutSeconds: Double

    public init(results: [CheckResult], summary: RunSummary, servers: [String: PodStatus], startedAt: Date, timeoutSeconds: Double) {
        self.results = results
        self.summary = summary
        self.servers = servers
        self.startedAt = startedAt
        self.timeoutSeconds = timeoutSeconds
    }
}
