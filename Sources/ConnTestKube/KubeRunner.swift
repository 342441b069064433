import ConnTest
import Foundation
import KubeClient

/// What a run through the API produced: the outcome plus, per check, the pod that ran it
/// (`namespace/name`), so a caller with a datapath view can attribute drops.
public struct KubeRunOutcome: Sendable {
    public var outcome: RunOutcome
    public var checkPods: [String: String]
}

/// `conntest run` on any cluster: the selected workload applied into one namespace through the
/// API (echo servers and their Services and policies first, as cilium-cli deploys them, checks
/// once the servers are Ready), then each check's verdict read from its pod's status and events
/// until every check settled or the run timeout hit. Nothing here knows how the cluster's nodes
/// are built.
public struct KubeRunner: Sendable {
    public struct Options: Sendable {
        public var namespace: String
        public var timeScale: Double
        public var timeout: Duration
        public var pollInterval: Duration
        public var capabilities: LocalCapabilities
        /// The family of every Service (single-stack); IPv6 needs a dual-stack cluster.
        public var ipFamily: RunIPFamily

        public init(namespace: String = "cilium-test", timeScale: Double = 1, timeout: Duration = .seconds(120),
                    pollInterval: Duration = .milliseconds(250), capabilities: LocalCapabilities = LocalCapabilities(),
                    ipFamily: RunIPFamily = .ipv4) {
            self.ipFamily = ipFamily
            self.namespace = namespace
            self.timeScale = timeScale
            self.timeout = timeout
            self.pollInterval = pollInterval
            self.capabilities = capabilities
        }
    }

    public let client: KubeClient
    public let options: Options

    public init(client: KubeClient, options: Options) {
        self.client = client
        self.options = options
    }

    /// Throws `KubeWorkloadError` (or an API error) only before any check ran: a rejected
    /// manifest, a namespace that is not ours to use, an unreachable server. `workload` is where
    /// the objects went; the caller deletes them (`cleanup`) whatever happens.
    public func run(_ resources: [Resource], workload kube: KubeWorkload, note: @escaping @Sendable (String) -> Void,
                    progress: (@Sendable (RunProgress) -> Void)? = nil) async throws -> KubeRunOutcome {
        let clock = ContinuousClock()
        let startedAt = Date()
        let start = clock.now
        let deadline = start + options.timeout
        let scaled = ServiceFamily.apply(ProbeTimeScale.apply(resources, scale: options.timeScale), options.ipFamily)
        let workload = try RunWorkload(resources: scaled)
        let skipReasons = options.capabilities.skipReasons(for: workload)
        let checkNames = Set(workload.checks.map(\.name))
        let toApply = scaled.filter { $0.kind != .deployment || skipReasons[$0.name] == nil }
        let first = toApply.filter { $0.kind != .deployment || !checkNames.contains($0.name) }
        let second = toApply.filter { $0.kind == .deployment && checkNames.contains($0.name) }
        let checks = workload.checks.filter { skipReasons[$0.name] == nil }

        // Setup has its own bound: a short --timeout limits the waiting for verdicts, and a run cut
        // off there is inconclusive rather than a setup error.
        try await kube.prepareNamespace(deadline: start + .seconds(60), progress: note)
        note("namespace \(options.namespace) ready; validating \(toApply.count) objects with the server (dry run)")
        try await kube.validate(toApply)
        note("applying \(first.count) objects (echo servers, services, policies) to namespace \(options.namespace)")
        try await kube.apply(first)

        var view = ClusterView()
        var observations: [String: PodObservation] = [:]
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

        // Servers first: a check probing a server still starting would burn its failure threshold.
        var serverStatus: [String: PodStatus] = [:]
        var lastServerLine = ""
        while clock.now < deadline, !workload.servers.isEmpty {
            await view.refresh(client, namespace: options.namespace, note: note)
            for s in workload.servers {
                if let pod = view.pod(for: s) {
                    serverStatus[s.name] = observations[s.name, default: PodObservation()]
                        .status(of: pod, deployment: s, events: view.events, now: seconds(clock.now - start))
                }
            }
            let ready = workload.servers.filter { serverStatus[$0.name]?.ready == true }
            let stuck = workload.servers.compactMap { s in serverStatus[s.name]?.stuckWaiting.map { "\(s.name): \($0)" } }
            if ready.count + stuck.count == workload.servers.count {
                for s in stuck { note("echo server cannot start, its checks will fail: \(s)") }
                break
            }
            let line = "waiting for echo servers: \(ready.count)/\(workload.servers.count) ready"
            if line != lastServerLine { note(line); lastServerLine = line }
            try? await Task.sleep(for: options.pollInterval)
        }

        note("applying \(second.count) checks")
        try await kube.apply(second)
        let checkStart = clock.now
        var checkStatus: [String: PodStatus] = [:]
        var placements: [String: PodPlacement] = [:]
        var settledAt: [String: Double] = [:]
        var checkPods: [String: String] = [:]
        while !Task.isCancelled {
            await view.refresh(client, namespace: options.namespace, note: note)
            let now = seconds(clock.now - checkStart)
            for check in checks {
                guard let pod = view.pod(for: check) else { continue }
                checkPods[check.name] = "\(options.namespace)/\(pod.metadata.name ?? "")"
                if let node = pod.spec.nodeName {
                    placements[check.name] = .node(node)
                } else if let c = pod.status?.conditions?.first(where: { $0.type == "PodScheduled" && $0.status == "False" }),
                          c.reason == "Unschedulable" {
                    placements[check.name] = .pending(reason: c.message ?? "Unschedulable")
                    settledAt[check.name] = settledAt[check.name] ?? now
                    continue
                }
                let status = observations[check.name, default: PodObservation()]
                    .status(of: pod, deployment: check, events: view.events, now: now)
                checkStatus[check.name] = status
                if status.settled, settledAt[check.name] == nil { settledAt[check.name] = now }
            }
            if let progress {
                let ready = checkStatus.values.filter(\.ready).count
                let failing = checkStatus.values.filter { !$0.ready && $0.settled }.count
                let pending = placements.values.filter { if case .pending = $0 { return true } else { return false } }.count
                progress(RunProgress(elapsedSeconds: seconds(clock.now - start), total: workload.checks.count, ready: ready,
                                     failing: failing, waiting: checks.count - ready - failing - pending, pending: pending,
                                     skipped: skipReasons.count))
            }
            if checks.allSatisfy({ settledAt[$0.name] != nil }) || clock.now >= deadline { break }
            try? await Task.sleep(for: min(options.pollInterval, max(deadline - clock.now, .zero)))
        }

        let end = seconds(clock.now - checkStart)
        var results = workload.checks.map { check in
            CheckVerdict.result(for: check, skipReason: skipReasons[check.name], placement: placements[check.name],
                                status: checkStatus[check.name], durationSeconds: settledAt[check.name] ?? end)
        }
        // A view the API stopped refreshing proves nothing about what happened since.
        if let lost = view.unreachable {
            for i in results.indices where !results[i].settled || results[i].outcome == .pass {
                guard results[i].outcome == .pass || results[i].outcome == .fail else { continue }
                results[i].settled = false
                results[i].reason = [results[i].reason, "API server unreachable at the end of the run: \(lost)"]
                    .compactMap { $0 }.joined(separator: "; ")
            }
        }
        let outcome = RunOutcome(results: results, summary: RunSummary(results: results, durationSeconds: seconds(clock.now - start)),
                                 servers: serverStatus, startedAt: startedAt, timeoutSeconds: seconds(options.timeout))
        return KubeRunOutcome(outcome: outcome, checkPods: checkPods)
    }
}

/// The namespace's pods and events as last read; a failed read keeps the previous view.
struct ClusterView {
    var pods: [Pod] = []
    var events: [KubeEvent] = []
    /// The error of the latest read, while the server cannot be reached.
    var unreachable: String?

    mutating func refresh(_ client: KubeClient, namespace: String, note: @Sendable (String) -> Void) async {
        do {
            async let p = client.get("/api/v1/namespaces/\(namespace)/pods", as: ObjectList<Pod>.self)
            async let e = client.get("/api/v1/namespaces/\(namespace)/events", as: ObjectList<KubeEvent>.self)
            (pods, events) = try await (p.items, e.items)
            if unreachable != nil { note("API server reachable again") }
            unreachable = nil
        } catch {
            if unreachable == nil { note("cannot read the workload's pods (keeping the last view): \(error)") }
            unreachable = "\(error)"
        }
    }

    /// The live pod a Deployment's template labels select.
    func pod(for d: WorkloadDeployment) -> Pod? {
        pods.first { pod in
            !pod.metadata.isDeleting && d.podLabels.allSatisfy { pod.metadata.labels?[$0.key] == $0.value }
        }
    }
}
