/// A snapshot of one container's probe state.
public struct ProbeStatus: Sendable, Equatable {
    public var ready = false
    public var restartCount = 0
    /// Seconds (real time) from runner start to the first Ready.
    public var timeToFirstReady: Double?
    /// "readiness: exit 28: curl: (28) …" of the most recent failed probe.
    public var lastFailure: String?
    /// Seconds from runner start when `lastFailure` was recorded (to pick the newest across containers).
    public var lastFailureAt: Double?
    /// Readiness reached failureThreshold consecutive failures at least once.
    public var readinessThresholdReached = false
    /// Liveness probes completed since the container last (re)started.
    public var livenessChecksSinceStart = 0
    public var readinessProbesRun = 0
    public var livenessProbesRun = 0
    /// How many liveness results the verdict must wait for: nil when there is no liveness probe,
    /// or when it runs the readiness probe's command (then Ready already proved what it checks).
    public var livenessFailureThreshold: Int?
    /// `REASON: message` of a container that cannot start (an image that cannot run, cannot be
    /// pulled, a bad config): the verdict is a failure now, nothing will change it.
    public var stuckWaiting: String?

    public init() {}

    /// Settled = the verdict can no longer be a surprise: either a failure
    /// threshold was hit (NotReady or a restart), or the container is Ready AND
    /// liveness has had failureThreshold chances since the last start. The second
    /// half matters for the proxy checks, whose deny probe is liveness-only: a
    /// policy leak shows only as a restart some periods after Ready. Where liveness
    /// repeats the readiness command, Ready is the verdict, as `kubectl wait
    /// --for=condition=Available` takes it upstream; waiting three more 5 s deny
    /// probes would only add 15 s.
    public var settled: Bool {
        if readinessThresholdReached || restartCount > 0 || stuckWaiting != nil { return true }
        guard ready else { return false }
        guard let threshold = livenessFailureThreshold else { return true }
        return livenessChecksSinceStart >= threshold
    }
}
