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

/// Drives probe runners for a planned workload: echo servers first (clients
/// probing a server that is still starting would burn their failure threshold,
/// as cilium-cli also waits for its echo deployments), then all checks at once,
/// until every check settled or the overall timeout hit.
public struct WorkloadRunner: Sendable {
    /// Returns the exec function for (deployment, node, container).
    public typealias ExecProvider = @Sendable (_ pod: String, _ node: String, _ container: String) -> ProbeExec
    /// Called when a container restarts (deployment, container, new restart count).
    public typealias RestartHook = @Sendable (_ pod: String, _ container: String, _ count: Int) async -> Void

    public var timeScale: Double
    public var timeout: Duration
    public var pollInterval: Duration

    public init(timeScale: Double = 1, timeout: Duration = .seconds(120), pollInterval: Duration = .milliseconds(200)) {
        self.timeScale = timeScale
        self.timeout = timeout
        self.pollInterval = pollInterval
    }

    public func run(_ plan: RunPlan, exec: @escaping ExecProvider, onRestart: RestartHook? = nil,
                    progress: (@Sendable (RunProgress) -> Void)? = nil) async -> RunOutcome {
        let clock = ContinuousClock()
        let startedAt = Date()
        let start = clock.now
        let deadline = start + timeout
        func runners(for d: WorkloadDeployment) -> [ProbeRunner]? {
            guard let node = plan.schedule.placement(of: d.name)?.nodeName else { return nil }
            return d.containers.map { c in
                let pod = d.name, container = c.name
                var restartHook: (@Sendable (Int) async -> Void)?
                if let onRestart {
                    restartHook = { count in await onRestart(pod, container, count) }
                }
                return ProbeRunner(container: container, readiness: c.readinessProbe, liveness: c.livenessProbe,
                                   timeScale: timeScale, exec: exec(pod, node, container), onRestart: restartHook)
            }
        }
        let servers = plan.workload.servers.compactMap { d in runners(for: d).map { (d.name, $0) } }
        let checks = plan.workload.checks.filter { plan.skipReasons[$0.name] == nil }
            .compactMap { d in runners(for: d).map { (d.name, $0) } }
        let pendingCount = plan.workload.checks.count - plan.skipReasons.count - checks.count

        var checkStatus: [String: PodStatus] = [:]
        var settledAt: [String: Double] = [:]
        var serverStatus: [String: PodStatus] = [:]
        var checkStart = start

        func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        func snapshot(_ list: [(String, [ProbeRunner])]) async -> [String: PodStatus] {
            var out: [String: PodStatus] = [:]
            for (name, rs) in list {
                var containers: [ProbeStatus] = []
                for r in rs { containers.append(await r.status) }
                out[name] = PodStatus(containers: containers)
            }
            return out
        }
        func report() {
            guard let progress else { return }
            let ready = checkStatus.values.filter(\.ready).count
            let failing = checkStatus.values.filter { !$0.ready && $0.settled }.count
            progress(RunProgress(elapsedSeconds: seconds(clock.now - start), total: plan.workload.checks.count,
                                 ready: ready, failing: failing, waiting: checks.count - ready - failing,
                                 pending: pendingCount, skipped: plan.skipReasons.count))
        }

        await withTaskGroup(of: Void.self) { group in
            for (_, rs) in servers { for r in rs { group.addTask { await r.run() } } }
            while clock.now < deadline, !Task.isCancelled {
                serverStatus = await snapshot(servers)
                if serverStatus.values.allSatisfy(\.ready) { break }
                report()
                try? await Task.sleep(for: pollInterval)
            }
            checkStart = clock.now
            for (_, rs) in checks { for r in rs { group.addTask { await r.run() } } }
            while !Task.isCancelled {
                checkStatus = await snapshot(checks)
                let now = seconds(clock.now - checkStart)
                for (name, status) in checkStatus where status.settled && settledAt[name] == nil { settledAt[name] = now }
                report()
                if checkStatus.values.allSatisfy(\.settled) || clock.now >= deadline { break }
                try? await Task.sleep(for: min(pollInterval, max(deadline - clock.now, .zero)))
            }
            serverStatus = await snapshot(servers)
            group.cancelAll()
        }

        let end = seconds(clock.now - checkStart)
        let results = plan.workload.checks.map { check in
            CheckVerdict.result(for: check, skipReason: plan.skipReasons[check.name],
                                placement: plan.schedule.placement(of: check.name), status: checkStatus[check.name],
                                durationSeconds: settledAt[check.name] ?? end)
        }
        return RunOutcome(results: results, summary: RunSummary(results: results, durationSeconds: seconds(clock.now - start)),
                          servers: serverStatus, startedAt: startedAt, timeoutSeconds: seconds(timeout))
    }
}
