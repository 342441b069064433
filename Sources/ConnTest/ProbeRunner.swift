import Foundation

/// Runs one container's readiness and liveness probes with kubelet semantics:
///
/// - each probe starts `initialDelaySeconds` after the container (re)starts and
///   then runs every `periodSeconds` (start to start; an overrun runs the next at once);
/// - a probe is a failure on non-zero exit or after `timeoutSeconds`;
/// - readiness starts NotReady, turns Ready after `successThreshold`
///   consecutive successes and NotReady after `failureThreshold` consecutive failures;
///   a container without a readiness probe is Ready as soon as it runs;
/// - `failureThreshold` consecutive liveness failures restart the container:
///   restartCount += 1, readiness back to NotReady, and after kubelet's CrashLoopBackOff
///   (10 s doubling up to 5 min, scaled) the container runs again and both schedules start over.
///
/// `timeScale` multiplies delays and periods only. Timeouts stay real because the
/// commands (curl --connect-timeout 5) keep their own timing.
public actor ProbeRunner {
    public nonisolated let container: String
    public nonisolated let readiness: ProbeSpec?
    public nonisolated let liveness: ProbeSpec?
    public nonisolated let timeScale: Double
    private let exec: ProbeExec
    private let onRestart: (@Sendable (Int) async -> Void)?
    private let onResult: (@Sendable (ProbeKind, ProbeExecResult) async -> Void)?

    public enum ProbeKind: String, Sendable { case readiness = "Readiness", liveness = "Liveness" }

    private let clock = ContinuousClock()
    private var startedAt: ContinuousClock.Instant?
    private var state = ProbeStatus()
    private var readinessSuccesses = 0
    private var readinessFailures = 0

    /// `onRestart` lets the real runner restart the container process; it receives the new restart count.
    /// `onResult` sees every probe result (a kubelet turns failures into `Unhealthy` events).
    public init(container: String = "", readiness: ProbeSpec?, liveness: ProbeSpec?, timeScale: Double = 1,
                exec: @escaping ProbeExec, onRestart: (@Sendable (Int) async -> Void)? = nil,
                onResult: (@Sendable (ProbeKind, ProbeExecResult) async -> Void)? = nil) {
        self.container = container
        self.readiness = readiness
        self.liveness = liveness
        // A zero, negative or NaN scale would spin or never probe; fall back to real time.
        self.timeScale = timeScale.isFinite && timeScale > 0 ? timeScale : 1
        self.exec = exec
        self.onRestart = onRestart
        self.onResult = onResult
        state.livenessFailureThreshold = liveness.flatMap { $0.command == readiness?.command ? nil : $0.failureThreshold }
    }

    public var status: ProbeStatus { state }

    /// Runs until the calling task is cancelled (or, with no probes at all, until Ready).
    public nonisolated func run() async {
        await markStarted()
        while !Task.isCancelled {
            let restart = await withTaskGroup(of: Bool.self) { group -> Bool in
                group.addTask { await self.readinessLoop() }
                group.addTask { await self.livenessLoop() }
                for await wantsRestart in group where wantsRestart {
                    group.cancelAll()
                    return true
                }
                return false
            }
            guard restart, !Task.isCancelled else { return }
            // The container is down from now on; it runs again after the back-off, which keeps a
            // failing liveness probe from restarting it in a tight loop.
            let pending = await containerStopped()
            do { try await Task.sleep(for: scaled(Self.crashLoopBackOff(restarts: pending))) } catch { return }
            let count = await restartContainer()
            await onRestart?(count)
        }
    }

    // MARK: loops (nonisolated: sleeping and exec happen off the actor)

    /// Returns false when cancelled or when there is nothing to probe.
    private nonisolated func readinessLoop() async -> Bool {
        guard let spec = readiness else {
            await setReady(true)
            return false
        }
        return await probeLoop(spec) { result in
            await self.onResult?(.readiness, result)
            return await self.recordReadiness(result, spec)
        }
    }

    /// Returns true when the container must restart.
    private nonisolated func livenessLoop() async -> Bool {
        guard let spec = liveness else { return false }
        var failures = 0
        return await probeLoop(spec) { result in
            await self.onResult?(.liveness, result)
            failures = result.succeeded ? 0 : failures + 1
            await self.recordLiveness(result, restart: failures >= spec.failureThreshold)
            return failures >= spec.failureThreshold
        }
    }

    /// Runs `spec` on schedule until `handle` returns true (-> true) or cancellation (-> false).
    private nonisolated func probeLoop(_ spec: ProbeSpec, _ handle: (ProbeExecResult) async -> Bool) async -> Bool {
        let containerStart = clock.now
        var next = containerStart + scaled(spec.initialDelaySeconds)
        let timeout = Duration.milliseconds(Int64((spec.timeoutSeconds * 1000).rounded()))
        while true {
            do { try await Task.sleep(until: next, clock: clock) } catch { return false }
            let started = clock.now
            let result = await BoundedExec.run(exec, spec.command, timeout: timeout)
            if Task.isCancelled { return false }
            if await handle(result) { return true }
            next = max(started + scaled(spec.periodSeconds), clock.now)
        }
    }

    /// Kubelet's restart back-off in seconds: 10, 20, 40 … capped at 300.
    static func crashLoopBackOff(restarts: Int) -> Double {
        min(300, 10 * pow(2, Double(max(0, restarts - 1))))
    }

    private nonisolated func scaled(_ seconds: Double) -> Duration {
        .milliseconds(Int64((seconds * timeScale * 1000).rounded()))
    }

    // MARK: state (actor-isolated)

    private func markStarted() {
        if startedAt == nil { startedAt = clock.now }
    }

    private func elapsed() -> Double {
        guard let startedAt else { return 0 }
        let d = clock.now - startedAt
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    private func setReady(_ ready: Bool) {
        state.ready = ready
        if ready && state.timeToFirstReady == nil { state.timeToFirstReady = elapsed() }
    }

    /// Returns false: readiness never stops its loop by itself.
    private func recordReadiness(_ result: ProbeExecResult, _ spec: ProbeSpec) -> Bool {
        state.readinessProbesRun += 1
        if result.succeeded {
            readinessSuccesses += 1
            readinessFailures = 0
            if readinessSuccesses >= spec.successThreshold { setReady(true) }
        } else {
            readinessFailures += 1
            readinessSuccesses = 0
            recordFailure("readiness", result)
            if readinessFailures >= spec.failureThreshold {
                setReady(false)
                state.readinessThresholdReached = true
            }
        }
        return false
    }

    private func recordLiveness(_ result: ProbeExecResult, restart: Bool) {
        state.livenessProbesRun += 1
        state.livenessChecksSinceStart += 1
        if !result.succeeded { recordFailure("liveness", result) }
    }

    private func recordFailure(_ probe: String, _ result: ProbeExecResult) {
        let detail = result.output.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        let head = result.timedOut ? "timed out" : "exit \(result.exitCode)"
        state.lastFailure = "\(container.isEmpty ? "" : container + " ")\(probe): \(head)" + (detail.isEmpty ? "" : ": \(detail)")
        state.lastFailureAt = elapsed()
    }

    /// Marks the killed container NotReady; returns the restart number it is waiting for.
    private func containerStopped() -> Int {
        state.ready = false
        return state.restartCount + 1
    }

    private func restartContainer() -> Int {
        state.restartCount += 1
        state.ready = false
        state.livenessChecksSinceStart = 0
        readinessSuccesses = 0
        readinessFailures = 0
        return state.restartCount
    }
}
