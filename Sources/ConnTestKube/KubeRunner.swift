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
        /// Who holds the namespace's run lease while this run lasts (shown to a second run).
        public var holder: String
        /// Run in a namespace that holds someone else's pods or policies (warned, not refused).
        public var allowOccupiedNamespace: Bool

        public init(namespace: String = "cilium-test", timeScale: Double = 1, timeout: Duration = .seconds(120),
                    pollInterval: Duration = .milliseconds(250), capabilities: LocalCapabilities = LocalCapabilities(),
                    ipFamily: RunIPFamily = .ipv4, holder: String = KubeRunner.defaultHolder, allowOccupiedNamespace: Bool = false) {
            self.ipFamily = ipFamily
            self.holder = holder
            self.allowOccupiedNamespace = allowOccupiedNamespace
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

    /// `conntest pid 12 on host h`.
    public static var defaultHolder: String {
        "conntest pid \(ProcessInfo.processInfo.processIdentifier) on \(ProcessInfo.processInfo.hostName)"
    }

    /// The server's version (`GET /version`), one bounded call: an unreachable server, bad
    /// credentials or a TLS mismatch show here, before anything is asked of the cluster.
    public static func serverVersion(_ client: KubeClient) async throws -> String {
        struct Version: Decodable { var gitVersion: String? }
        return try await client.get("/version", as: Version.self).gitVersion ?? "unknown version"
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
        var skipReasons = options.capabilities.skipReasons(for: workload)
        let checkNames = Set(workload.checks.map(\.name))

        // Setup has its own bound: a short --timeout limits the waiting for verdicts, and a run cut
        // off there is inconclusive rather than a setup error.
        try await kube.prepareNamespace(deadline: start + .seconds(60), holder: options.holder,
                                        allowOccupied: options.allowOccupiedNamespace, progress: note)
        var toApply = scaled.filter { $0.kind != .deployment || skipReasons[$0.name] == nil }
        note("namespace \(options.namespace) ready; validating \(toApply.count) objects with the server (dry run)")
        let validated = try await kube.validate(toApply)
        toApply = validated.resources
        for refusal in validated.refusedNodePorts {
            let reason = "NodePort Service \(refusal.service) refused by admission: \(refusal.message)"
            let affected = workload.checks.filter { check in
                skipReasons[check.name] == nil && refusal.nodePorts.contains { workload.probesPort(of: check, $0) }
            }
            note("conntest: warning: \(reason); applied as ClusterIP, skipping \(affected.map(\.name).joined(separator: ", "))")
            for check in affected { skipReasons[check.name] = reason }
        }
        toApply = toApply.filter { $0.kind != .deployment || skipReasons[$0.name] == nil }
        let first = toApply.filter { $0.kind != .deployment || !checkNames.contains($0.name) }
        let second = toApply.filter { $0.kind == .deployment && checkNames.contains($0.name) }
        let checks = workload.checks.filter { skipReasons[$0.name] == nil }
        var view = ClusterView()
        await view.refresh(client, namespace: options.namespace, note: note)
        let stale = AdmissionRejection.replicaSets(in: view.events)
        note("applying \(first.count) objects (echo servers, services, policies) to namespace \(options.namespace)")
        try await kube.apply(first)

        var observations: [String: PodObservation] = [:]
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

        // Servers first, each until cilium-cli's Deployment predicate holds: a check probing a
        // server still starting would burn its failure threshold. A server whose pod cannot start
        // (stuck Waiting, or refused by admission) is named and not waited for.
        var serverStatus: [String: PodStatus] = [:]
        var waitingFor: [String: String] = [:]
        for s in workload.servers {
            note("⌛ Waiting for deployment \(options.namespace)/\(s.name) to become ready...")
            waitingFor[s.name] = "not yet observed"
        }
        while !waitingFor.isEmpty {
            await view.refresh(client, namespace: options.namespace, deployments: true, note: note)
            for s in workload.servers where waitingFor[s.name] != nil {
                if let pod = view.pod(for: s) {
                    serverStatus[s.name] = observations[s.name, default: PodObservation()]
                        .status(of: pod, deployment: s, events: view.events, now: seconds(clock.now - start))
                }
                if let d = view.deployments[s.name] {
                    waitingFor[s.name] = d.notReady
                    if d.notReady == nil { continue }
                }
                let cannot = serverStatus[s.name]?.stuckWaiting
                    ?? (view.pod(for: s) == nil ? AdmissionRejection.message(for: s.name, in: view.events, stale: stale).map { "pod rejected by admission: \($0)" } : nil)
                if let cannot {
                    note("echo server cannot start, its checks will fail: \(s.name): \(cannot)")
                    waitingFor[s.name] = nil
                }
            }
            guard !waitingFor.isEmpty else { break }
            guard clock.now < deadline else {
                for (name, last) in waitingFor.sorted(by: { $0.key < $1.key }) {
                    note("timeout reached waiting for deployment \(options.namespace)/\(name) to become ready (last error: \(last))")
                }
                break
            }
            try? await Task.sleep(for: options.pollInterval)
        }

        note("applying \(second.count) checks")
        try await kube.apply(second)
        let checkStart = clock.now
        var checkStatus: [String: PodStatus] = [:]
        var placements: [String: PodPlacement] = [:]
        var settledAt: [String: Double] = [:]
        var checkPods: [String: String] = [:]
        var rejectedSince: [String: Double] = [:]
        while !Task.isCancelled {
            await view.refresh(client, namespace: options.namespace, note: note)
            let now = seconds(clock.now - checkStart)
            for check in checks {
                guard let pod = view.pod(for: check) else {
                    // No pod: an admission plugin or webhook may be refusing it. Settled once the
                    // refusal has stood for a second (a transient one is followed by a pod at once).
                    if let message = AdmissionRejection.message(for: check.name, in: view.events, stale: stale) {
                        let since = rejectedSince[check.name] ?? now
                        rejectedSince[check.name] = since
                        placements[check.name] = .rejected(reason: "pod rejected by admission: \(message)")
                        if now - since >= 1, settledAt[check.name] == nil { settledAt[check.name] = now }
                    }
                    continue
                }
                rejectedSince[check.name] = nil
                if case .rejected? = placements[check.name] { placements[check.name] = nil; settledAt[check.name] = nil }
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
                let rejected = placements.values.filter { if case .rejected = $0 { return true } else { return false } }.count
                progress(RunProgress(elapsedSeconds: seconds(clock.now - start), total: workload.checks.count, ready: ready,
                                     failing: failing + rejected, waiting: checks.count - ready - failing - rejected - pending, pending: pending,
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
    /// By name; read only while waiting for the servers.
    var deployments: [String: DeploymentState] = [:]
    /// The error of the latest read, while the server cannot be reached.
    var unreachable: String?

    mutating func refresh(_ client: KubeClient, namespace: String, deployments withDeployments: Bool = false,
                          note: @Sendable (String) -> Void) async {
        do {
            async let p = client.get("/api/v1/namespaces/\(namespace)/pods", as: ObjectList<Pod>.self)
            async let e = client.get("/api/v1/namespaces/\(namespace)/events", as: ObjectList<KubeEvent>.self)
            async let d = withDeployments
                ? client.get("/apis/apps/v1/namespaces/\(namespace)/deployments", as: ObjectList<DeploymentState>.self).items : []
            (pods, events) = try await (p.items, e.items)
            for state in try await d { if let name = state.metadata.name { deployments[name] = state } }
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
