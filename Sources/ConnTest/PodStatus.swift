/// A pod's view over its containers' probe states (what `kubectl get pods` shows).
public struct PodStatus: Sendable, Equatable {
    public var containers: [ProbeStatus]

    public init(containers: [ProbeStatus]) { self.containers = containers }

    public var ready: Bool { !containers.isEmpty && containers.allSatisfy(\.ready) }
    public var restarts: Int { containers.reduce(0) { $0 + $1.restartCount } }
    /// When the last container first became Ready (exact unless one flipped back meanwhile).
    public var timeToFirstReady: Double? {
        let times = containers.map(\.timeToFirstReady)
        guard !times.isEmpty, times.allSatisfy({ $0 != nil }) else { return nil }
        return times.compactMap { $0 }.max()
    }
    public var lastFailure: String? {
        containers.filter { $0.lastFailure != nil }.max { ($0.lastFailureAt ?? 0) < ($1.lastFailureAt ?? 0) }?.lastFailure
    }
    /// The first container that cannot start, as `container: REASON: message`.
    public var stuckWaiting: String? {
        containers.lazy.compactMap { $0.stuckWaiting }.first
    }
    /// A failure threshold (or a container that cannot start) anywhere decides the pod; otherwise
    /// every container must be settled.
    public var settled: Bool {
        containers.contains { $0.readinessThresholdReached || $0.restartCount > 0 || $0.stuckWaiting != nil }
            || containers.allSatisfy(\.settled)
    }
}
