import Agent
import ArgumentParser
import CommandLineSupport
import ConnTest
import ConnTestKube
import ConnTestLocal
import Foundation
import HealthAPI
import HealthHistory
import KubeClient

enum RunOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension RunIPFamily: ExpressibleByArgument {}

/// Where a run goes: a local cluster by name (brought up when missing, local extras available), or
/// any cluster through a kubeconfig or the in-cluster service account.
enum RunTarget {
    case local(String)
    case kube(KubeConnection)

    /// The `cluster` a run history records.
    var historyName: String {
        switch self {
        case .local(let name): return name
        case .kube(let connection): return connection.source
        }
    }
}

/// `conntest run`: the workload on any cluster through its Kubernetes API, reported as cilium-cli would.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the selected connectivity checks on a cluster, through its Kubernetes API, and report.",
        discussion: """
            Which cluster, as kubectl finds it: --kubeconfig FILE (with --context), else $KUBECONFIG (a \
            colon-separated list: missing files skipped, the rest merged, the first definition of a name and \
            the first current-context winning), else the pod's service account when run inside a cluster \
            (KUBERNETES_SERVICE_HOST), else the local cluster --cluster (default `local`; also the choice \
            whenever --cluster is given). ~/.kube/config is not read implicitly: pass --kubeconfig for it. \
            The server must answer GET /version first (connect and TLS handshake 5 s, the request 10 s), or \
            the run exits 2 saying so.

            Every cluster takes the same path, as a user does with kubectl: the namespace (-n, default \
            cilium-test, labelled app.kubernetes.io/managed-by=conntest, holding Lease conntest-run while \
            the run lasts: a second run against it exits 2 naming the first), a server-side dry run of \
            every object (a rejected manifest exits 2 with nothing applied; a NodePort Service refused by \
            admission is applied as ClusterIP and the checks probing its node port are skipped with the \
            server's words), the echo servers, their Services and the policies, a wait until each server \
            Deployment is ready by cilium-cli's predicate (generation observed, available == ready == \
            updated == replicas), then the checks. Each check's verdict is read from its pod: Ready, \
            restarts, a container stuck Waiting, the newest `Readiness probe failed: …` event the kubelet \
            wrote, or the ReplicaSet's FailedCreate event when admission (a quota, a LimitRange, a webhook) \
            refuses its pod (the check fails with that message at once). A namespace conntest did not make \
            is refused (exit 2, naming them) when it holds pods or (Cilium)NetworkPolicies, unless \
            --allow-occupied-namespace; CiliumClusterwideNetworkPolicies are warned about. RBAC refusals \
            name the verb and resource. Afterwards what the run applied is deleted and its pods waited for \
            (bounded, 60 s); conntest's namespace stays, empty, and the next run reuses it (removing what \
            a --no-cleanup or killed run left) instead of paying the namespace controller's fixed 5 s wait \
            twice. --cleanup also deletes the namespace and waits until it is gone; --no-cleanup keeps \
            everything.

            On a kubeconfig run nothing of the local machine is assumed: policy checks (CNP and \
            NetworkPolicy, L3/L4, L7 and FQDN) run and the cluster's CNI is expected to enforce them; \
            external checks run only against targets you name (--external-ip, and --external-fqdn for the \
            FQDN check), else they are skipped; drops are not reported (no `drops` in -o json: the run has \
            no view of the datapath); --monitor, --nodes and --keep-cluster do not apply.

            On the local cluster (--cluster) the run brings the cluster up if needed (with its control \
            plane; down again afterwards unless --keep-cluster) and uses its kubeconfig. The node agents \
            are the kubelets, kube-proxies, DNS and eBPF policy datapath; CNP/NetworkPolicy L3/L4 rules are \
            enforced by them (policy checks are skipped when a node's datapath could not load, drops per \
            check are counted from the agents). L7/FQDN rules are not enforced: checks carrying them are \
            skipped. One run per local cluster at a time.

            --time-scale scales the probes' periods and initial delays in the applied Deployments (whole \
            seconds, at least 1); timeouts stay as written.

            External checks on the local cluster run against a simulated external host when --external-ip \
            names an address in 198.18.0.0/15 outside the cluster's ranges (nodes 198.18.0.0/24, services \
            198.18.128.0/20, pods 198.19.0.0/16), e.g. 198.18.200.1: namespace nh-<cluster>-ext on the \
            cluster bridge, HTTPS on 443 and HTTP on 80, published to the nodes as ConfigMap \
            kube-system/nethealth-simulated-internet (the node DNS answers --external-fqdn, default \
            www.google.com, with that address; pods trust its throwaway CA as an image would a public one). \
            Without --external-ip they are skipped; other addresses are refused, so probe traffic never \
            leaves the machine.

            -t filters select checks as upstream's cue does; the run then adds, from the unfiltered suite, \
            the echo servers and Services the selected checks probe (a deny check must not pass because \
            its target does not exist).

            Exit codes: 0 all ran checks passed, 1 a check failed, 2 usage or setup error (also a manifest the \
            API server rejects, an unreachable server, RBAC refusing the run, an occupied namespace), 3 \
            inconclusive (--exit-zero-on-failure turns 1 and 3 into 0).
            """)

    @OptionGroup var selection: SelectionOptions

    @Option(help: ArgumentHelp("Kubeconfig file of the cluster to run on (overrides $KUBECONFIG).", valueName: "path"))
    var kubeconfig: String?

    @Option(help: ArgumentHelp("Kubeconfig context (default: its current-context).", valueName: "name"))
    var context: String?

    @Option(help: ArgumentHelp("Local cluster to run on (default local, when neither --kubeconfig nor $KUBECONFIG is given).", valueName: "name"))
    var cluster: String?

    @Option(parsing: .unconditional, help: "Nodes when the local cluster has to be brought up (default 3); an existing cluster keeps its own.")
    var nodes: Int?

    @Option(name: .customLong("ip-family"),
            help: ArgumentHelp("Family of every Service, ClusterIP, NodePort and DNS answer: ipv4 or ipv6 (IPv6 needs a dual-stack cluster, `agent cluster up --ipv6`; a cluster the run brings up gets it).", valueName: "family"))
    var ipFamily: RunIPFamily = .ipv4

    @Option(name: .shortAndLong, help: "Report format on stdout.")
    var output: RunOutputFormat = .text

    @Option(name: .customLong("junit-file"), help: ArgumentHelp("Also write a JUnit XML report here.", valueName: "path"))
    var junitFile: String?

    @Option(name: .customLong("junit-property"),
            help: ArgumentHelp("Add a <property> to the JUnit suite (repeatable).", valueName: "key=value"))
    var junitProperties: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp("Overall limit for the run, e.g. 60s, 2m or 1m30s.", valueName: "duration"))
    var timeout = "2m"

    @Flag(name: .customLong("exit-zero-on-failure"),
          help: "Exit 0 even when checks failed or the run was inconclusive (the report still says so); usage and setup errors still exit 2.")
    var exitZeroOnFailure = false

    @Option(name: .customLong("time-scale"), parsing: .unconditional, help: "Multiplier for the applied probes' periods and initial delays (whole seconds, periods at least 1; timeouts stay real).")
    var timeScale = 0.1

    /// `--cleanup` / `--no-cleanup`; neither: the workload goes, conntest's namespace stays.
    enum CleanupChoice: String, EnumerableFlag {
        case cleanup, noCleanup

        static func help(for value: CleanupChoice) -> ArgumentHelp? {
            switch value {
            case .cleanup:
                return "Also delete the namespace conntest made and wait (bounded, 60 s) until it is gone: about 5 s more, the namespace controller's fixed wait. Without either flag the run deletes what it applied, waits until its pods are gone, and leaves its namespace empty for the next run."
            case .noCleanup:
                return "Keep the namespace and the run's pods for `kubectl describe`, as cilium-cli does by default; the next run removes them first."
            }
        }
    }

    @Flag var cleanupChoice: CleanupChoice?

    var cleanupScope: CleanupScope {
        switch cleanupChoice {
        case nil: .workload
        case .cleanup: .namespace
        case .noCleanup: .nothing
        }
    }

    @Flag(name: .customLong("allow-occupied-namespace"),
          help: "Run in a namespace conntest did not make even though it holds other pods or NetworkPolicies (they may change what the checks observe; warned).")
    var allowOccupiedNamespace = false

    @Flag(name: .customLong("keep-cluster"), help: "Leave a local cluster this run brought up running.")
    var keepCluster = false

    @Flag(help: "Print the local node agents' policy drop events on stderr as they happen (`agent monitor --type drop` shows them from another shell).")
    var monitor = false

    @Flag(name: .customLong("health-check"), inversion: .prefixedNo,
          help: "cilium-cli's cilium-health scenario: per node a check whose pod runs `cilium-health status --probe --expect-nodes N` against the node's health socket (a hostPath) until every node is listed with every status empty. Default: included on the local cluster (its agents, or deploy/'s DaemonSet, serve the socket) and, through a kubeconfig, when deploy/cilium-health.yaml's DaemonSet (label app.kubernetes.io/name=nethealth-health-daemon) is found, taking its image and socket directory; -t filters apply (component=health selects only it). --health-check adds it whatever -t says or finds; --no-health-check leaves it out.")
    var healthCheck: Bool?

    @Option(name: .customLong("health-image"), help: ArgumentHelp("Image of the cilium-health check's pods (ours, deploy/Containerfile; default: the found DaemonSet's, else \(HealthCheckWorkload.defaultImage)).", valueName: "image"))
    var healthImage: String?

    @Option(name: .customLong("health-socket-dir"),
            help: ArgumentHelp("Node directory holding the health daemon's health.sock (default: the found DaemonSet's hostPath, else \(HealthCheckWorkload.defaultSocketDirectory); Cilium's own is /var/run/cilium).", valueName: "path"))
    var healthSocketDir: String?

    @Option(name: .customLong("history-db"),
            help: ArgumentHelp("Append this run's result to this run history (default: <state>/conntest-history.db; `conntest history` lists it).", valueName: "path"))
    var historyDB: String?

    var historyPath: String { historyDB ?? RunHistoryOptions.defaultPath }

    /// The cluster the flags and environment name (see the discussion for the order).
    func target() throws -> RunTarget {
        if let cluster {
            guard kubeconfig == nil else { throw ConnTestError("--cluster and --kubeconfig name different clusters: pass one") }
            guard context == nil else { throw ConnTestError("--context needs a kubeconfig (--kubeconfig or $KUBECONFIG), not --cluster") }
            return .local(cluster)
        }
        let connection: KubeConnection?
        do {
            connection = try KubeConfig.connection(kubeconfig: kubeconfig, context: context)
        } catch {
            throw ConnTestError("\(error)")
        }
        guard let connection else {
            guard context == nil else { throw ConnTestError("--context needs a kubeconfig (--kubeconfig or $KUBECONFIG)") }
            return .local("local")
        }
        for (given, flag) in [(nodes != nil, "--nodes"), (keepCluster, "--keep-cluster"), (monitor, "--monitor")] where given {
            throw ConnTestError("\(flag) applies only to a local cluster (--cluster); this run goes to \(connection.server) (\(connection.source))")
        }
        return .kube(connection)
    }

    func run() async throws {
        guard let limit = GoDuration.parse(timeout) else {
            throw ConnTestError("invalid --timeout '\(timeout)': use e.g. 60s, 2m or 1m30s")
        }
        _ = try junitProperties.map(JUnitProperty.init(parsing:))  // validated now, used in the report
        guard timeScale.isFinite, timeScale > 0 else { throw ConnTestError("--time-scale must be > 0, got \(timeScale)") }
        if let nodes, !(1...ClusterSpec.maxNodes).contains(nodes) {
            throw ConnTestError("--nodes must be between 1 and \(ClusterSpec.maxNodes), got \(nodes)")
        }
        let completed = try ProbeTargetCompletion.complete(selection.selectedResources().resources,
                                                           from: selection.suiteResources())
        let resources = completed.resources
        let target = try target()
        if case .local = target {
            if let ip = selection.externalIP {
                try ExternalHostAddress.validate(ip)
                guard ipFamily == .ipv4 else {
                    throw ConnTestError("--external-ip cannot be combined with --ip-family ipv6: the simulated external host is IPv4-only, so its checks would not test IPv6")
                }
            }
        }
        let workload = try RunWorkload(resources: resources)
        // Output files are checked before anything exists: a bad path must not cost a whole run.
        if let junitFile { try OutputFile.checkWritable(junitFile, flag: "--junit-file") }
        do { _ = try RunHistory(path: historyPath) } catch { throw ConnTestError("invalid --history-db: \(error)") }
        if let healthSocketDir, !healthSocketDir.hasPrefix("/") || healthSocketDir.contains("..") {
            throw ConnTestError("invalid --health-socket-dir '\(healthSocketDir)': an absolute node path without '..'")
        }
        if try workload.checks.isEmpty && !healthScenarioMayRun() {
            // Nothing to run proves nothing: inconclusive, and no cluster is touched.
            let summary = RunSummary(results: [])
            progress("conntest: \(summary.inconclusiveReason ?? "no check ran")")
            try report([], summary: summary, timeoutSeconds: nil, startedAt: Date(), cluster: target.historyName)
            Foundation.exit(exitZeroOnFailure ? RunExitCode.success.rawValue : summary.exitCode.rawValue)
        }
        if !completed.added.isEmpty {
            progress("adding what the selected checks probe: \(completed.added.joined(separator: ", "))")
        }
        var runLock: ClusterLock?
        defer { runLock?.release() }
        var local: LocalCluster?
        if case .local(let name) = target {
            let cluster: LocalCluster
            do { cluster = try LocalCluster(name: name) } catch { throw ConnTestError("\(error)") }
            local = cluster
            // One workload per local cluster: its external host and node ports are the cluster's.
            do {
                runLock = try ClusterLock(path: cluster.layout.runLockPath, wait: false)
            } catch let busy as ClusterLock.Busy {
                throw ConnTestError("cluster '\(name)' is in use by another conntest run (pid \(busy.holder.map(String.init) ?? "?")); "
                    + "wait for it to finish, or pass --cluster NAME to run on a cluster of its own")
            } catch {
                throw ConnTestError("\(error)")
            }
        }

        let cleanupActions = RunCleanup()
        // SIGINT/SIGTERM: undo everything, then exit 128+signal as a shell would report it.
        let signals = SignalHandlers { sig in
            progress("conntest: signal \(sig): cleaning up")
            cleanupActions.run()
            Foundation.exit(128 + sig)
        }
        defer { withExtendedLifetime(signals) {} }

        let code: RunExitCode
        do {
            switch target {
            case .local:
                guard let local else { throw ConnTestError("internal: no local cluster") }
                code = try await runOn(local, resources: resources, limit: limit, cleanup: cleanupActions)
            case .kube(let connection):
                code = try await runThroughAPI(connection, local: nil, resources: resources, limit: limit, cleanup: cleanupActions)
            }
        } catch {
            cleanupActions.run()
            fail(APIErrorText.line(error), code: RunExitCode.usage.rawValue)
        }
        cleanupActions.run()
        Foundation.exit(exitZeroOnFailure ? RunExitCode.success.rawValue : code.rawValue)
    }

    private func runOn(_ local: LocalCluster, resources: [Resource], limit: Duration,
                       cleanup actions: RunCleanup) async throws -> RunExitCode {
        if (try? local.loadSpec()) == nil {
            let count = nodes ?? 3
            // Before anything exists: a missing control-plane build says how to make it.
            _ = try ControlPlaneBinaries.locate()
            progress("bringing up cluster '\(local.name)' with \(count) nodes and its control plane")
            if !keepCluster { actions.removeClusterOnExit(name: local.name, stateRoot: local.layout.root) }
            _ = try await local.up(nodes: count, ipv6: ipFamily == .ipv6, probeRatio: 0.5, kubernetes: true) { progress($0) }
        }
        let spec = try local.loadSpec()
        if let nodes, nodes != spec.nodes.count {
            let have = spec.nodes.count
            progress("cluster '\(local.name)' is already up with \(have) node\(have == 1 ? "" : "s"); --nodes \(nodes) applies only "
                     + "when the run brings a cluster up (agent cluster down --name \(local.name) to change it)")
        }
        guard spec.kubernetes != nil else {
            throw ConnTestError("cluster '\(spec.name)' has no Kubernetes control plane (it was made with --no-kubernetes): "
                                + "conntest run goes through the Kubernetes API; `agent cluster down --name \(spec.name)` and bring it up without --no-kubernetes")
        }
        guard ipFamily == .ipv4 || spec.ipv6 else {
            throw ConnTestError("cluster '\(spec.name)' has no IPv6: bring it up with `agent cluster up --ipv6` for an IPv6 run")
        }
        let kubeconfig = local.layout.kubeconfigPath
        let connection: KubeConnection
        do { connection = try KubeConfig(path: kubeconfig).connection() } catch { throw ConnTestError("kubeconfig \(kubeconfig): \(error)") }
        return try await runThroughAPI(connection, local: (local, spec), resources: resources, limit: limit, cleanup: actions)
    }

    /// The run as on any cluster: applied into the namespace through the API, verdicts read from pod
    /// status and events, cleaned up afterwards as `cleanupScope` says. `local` adds what
    /// only the local cluster has: the simulated external host, the agents' datapath status and drops.
    private func runThroughAPI(_ connection: KubeConnection, local: (cluster: LocalCluster, spec: ClusterSpec)?,
                               resources: [Resource], limit: Duration, cleanup actions: RunCleanup) async throws -> RunExitCode {
        let client: KubeClient
        do { client = try KubeClient(connection) } catch { throw ConnTestError("\(error)") }
        let contacted = ContinuousClock.now
        do {
            let version = try await KubeRunner.serverVersion(client)
            progress("API server \(connection.server) (\(version)), \(connection.source)")
        } catch {
            await client.shutdown()
            let took = ContinuousClock.now - contacted
            let secs = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
            throw ConnTestError("\(APIErrorText.line(error)) (\(connection.source); gave up after \(String(format: "%.1f", secs)) s)")
        }
        var resources = resources
        if let health = try await healthScenario(client, local: local != nil) {
            let nodes: [String]
            do {
                nodes = try await client.get("/api/v1/nodes", as: ObjectList<Node>.self).items.compactMap(\.metadata.name)
            } catch {
                await client.shutdown()
                throw ConnTestError("the cilium-health check needs the cluster's nodes: \(APIErrorText.line(error))")
            }
            var checks = health.resources(nodes: nodes)
            if healthCheck == nil { checks = try TagSelection.parse(selection.tags).filter(checks) }
            if !checks.isEmpty {
                progress("adding the cilium-health check on \(checks.count) node\(checks.count == 1 ? "" : "s") (\(health.socketDirectory)/health.sock)")
            }
            resources += checks
        }
        if try RunWorkload(resources: resources).checks.isEmpty {
            // Only the cilium-health check was selected and it is left out: nothing ran, nothing proven.
            await client.shutdown()
            let summary = RunSummary(results: [])
            progress("conntest: \(summary.inconclusiveReason ?? "no check ran")")
            try report([], summary: summary, timeoutSeconds: nil, startedAt: Date(), cluster: local?.cluster.name ?? connection.source)
            return summary.exitCode
        }
        let namespace = selection.namespace ?? "cilium-test"
        let workload = KubeWorkload(client: client, namespace: namespace)
        let teardown = APIRunTeardown(client: client, workload: workload, scope: cleanupScope)
        actions.onExit { teardown.runBlocking() }  // a signal's cleanup: bounded inside
        var result: KubeRunOutcome
        do {
            let capabilities: LocalCapabilities
            var drops: DropCollector?
            if let local {
                let (cluster, spec) = (local.cluster, local.spec)
                ExternalHost.removeLeftovers(layout: cluster.layout)  // a killed run's, even if this one has none
                if let ip = selection.externalIP {
                    let external = ExternalHost(layout: cluster.layout, cluster: spec, ip: ip,
                                                fqdn: selection.externalFQDN ?? GeneratorOptions.defaultExternalFQDN)
                    actions.track(external)
                    try external.start { progress($0) }
                    teardown.withdrawSimulatedInternet()
                    try await SimulatedInternet(hosts: external.dnsRecords, caPEM: external.caPEM).publish(client)
                }
                let enforcing = await Self.policyEnforced(cluster)
                capabilities = LocalCapabilities(externalHost: selection.externalIP != nil, policyEnforcement: enforcing)
                drops = enforcing ? DropCollector(local: cluster, nodes: spec.nodes.map(\.name), echo: monitor) : nil
            } else {
                capabilities = LocalCapabilities(externalHost: selection.externalIP != nil, externalFQDN: selection.externalFQDN != nil,
                                                 noExternalReason: LocalCapabilities.noExternalTargetReason,
                                                 l7Policy: true, fqdnPolicy: true, policyEnforcement: true)
                progress("policy checks rely on the cluster's CNI to enforce them; drops are not reported (no view of the datapath)")
            }
            defer { drops?.stop() }
            let runner = KubeRunner(client: client, options: .init(namespace: namespace, timeScale: timeScale, timeout: limit,
                                                                    capabilities: capabilities, ipFamily: ipFamily,
                                                                    allowOccupiedNamespace: allowOccupiedNamespace))
            let lastLine = LastLine()
            result = try await runner.run(resources, workload: workload, note: { progress($0) }) { p in
                let line = ConsoleReport.progressLine(p)
                if lastLine.shouldPrint(line.drop { $0 != "]" }, at: p.elapsedSeconds) { progress(line) }
            }
            if let drops {
                // The stream is a few ms behind the kernel: let the last probes' drops arrive.
                try? await Task.sleep(for: .milliseconds(300))
                let bySource = drops.finish()
                for i in result.outcome.results.indices where result.outcome.results[i].outcome != .skipped {
                    let pod = result.checkPods[result.outcome.results[i].name]
                    result.outcome.results[i].drops = pod.map { bySource[$0] ?? 0 } ?? 0
                }
            }
        } catch {
            await teardown.run(scope: cleanupScope == .namespace ? .namespace : .workload)  // nothing half-applied stays, --no-cleanup or not
            throw error
        }
        let ours = await workload.ownsTheNamespace
        switch cleanupScope {
        case .nothing:
            progress(ours
                     ? "keeping namespace \(namespace) (--no-cleanup): kubectl get pods -n \(namespace); the next run removes what is in it"
                     : "keeping what the run made in namespace \(namespace) (--no-cleanup); remove it with kubectl delete "
                       + "deployments,services,ciliumnetworkpolicies -n \(namespace) -l \(KubeWorkload.managedByLabel)=\(KubeWorkload.managedByValue)")
        case .workload:
            progress(ours ? "deleting what the run made; namespace \(namespace) stays, empty, for the next run (--cleanup deletes it)"
                          : "deleting what the run made in namespace \(namespace)")
        case .namespace:
            progress(ours ? "deleting namespace \(namespace)" : "deleting what the run made in namespace \(namespace)")
        }
        await teardown.run()
        let outcome = result.outcome
        try report(outcome.results, summary: outcome.summary, timeoutSeconds: outcome.timeoutSeconds, startedAt: outcome.startedAt,
                   cluster: local?.cluster.name ?? connection.source)
        return outcome.summary.exitCode
    }

    /// Whether the cilium-health scenario could be part of this run (before any cluster is asked).
    private func healthScenarioMayRun() throws -> Bool {
        switch healthCheck {
        case true?: true
        case false?: false
        case nil: try selection.variant == nil && TagSelection.parse(selection.tags).mayMatchHealthChecks
        }
    }

    /// The cilium-health scenario for this run, or nil when it is left out (said why). On the local
    /// cluster the node agents (or deploy/'s DaemonSet) serve the socket at the default hostPath;
    /// through a kubeconfig it runs where deploy/'s DaemonSet is found, with its image and socket
    /// directory, unless --health-check asks for it anyway (then the flags or the defaults).
    private func healthScenario(_ client: KubeClient, local: Bool) async throws -> HealthCheckWorkload? {
        guard try healthScenarioMayRun() else { return nil }
        func workload(image: String?, socketDirectory: String?) -> HealthCheckWorkload {
            HealthCheckWorkload(image: healthImage ?? image ?? HealthCheckWorkload.defaultImage,
                                socketDirectory: healthSocketDir ?? socketDirectory ?? HealthCheckWorkload.defaultSocketDirectory)
        }
        if local { return workload(image: nil, socketDirectory: nil) }
        let found: HealthDaemonLocation?
        do {
            found = try await HealthDaemonDiscovery.find(client)
        } catch {
            guard healthCheck == true else {
                progress("the cilium-health check is left out: cannot look for the health daemon's DaemonSet (\(APIErrorText.line(error))); --health-check adds it anyway")
                return nil
            }
            return workload(image: nil, socketDirectory: nil)
        }
        guard let found else {
            guard healthCheck == true else {
                progress("the cilium-health check is left out: no DaemonSet labelled \(HealthDaemonDiscovery.nameLabel)=\(HealthDaemonDiscovery.nameValue) "
                         + "(deploy/cilium-health.yaml) in the cluster; --health-check adds it anyway")
                return nil
            }
            return workload(image: nil, socketDirectory: nil)
        }
        progress("health daemon: DaemonSet \(found.daemonSet), \(found.readyPods)/\(found.scheduledPods) pods ready, socket \(found.socketDirectory)/health.sock")
        return workload(image: found.image, socketDirectory: found.socketDirectory)
    }

    /// Policy checks run only where every node's datapath loaded; otherwise they are skipped, never passed.
    private static func policyEnforced(_ local: LocalCluster) async -> Bool {
        do {
            let disabled = try await local.policy(.status, nodes: []).filter { $0.state == "Disabled" }
            for s in disabled { progress("policy enforcement unavailable on \(s.node), policy checks will be skipped: \(s.message)") }
            return disabled.isEmpty
        } catch {
            progress("policy enforcement unavailable, policy checks will be skipped: \(error)")
            return false
        }
    }

    /// The report on stdout, and the JUnit file when asked for.
    private func report(_ results: [CheckResult], summary: RunSummary, timeoutSeconds: Double?, startedAt: Date, cluster: String) throws {
        switch output {
        case .json: print(JSONReport.render(results, summary: summary), terminator: "")
        case .text: print(ConsoleReport.render(results, summary: summary, timeoutSeconds: timeoutSeconds), terminator: "")
        }
        if let junitFile {
            let properties = try junitProperties.map(JUnitProperty.init(parsing:))
            // Args as cilium-cli records them: the arguments after the command (`conntest run`).
            try JUnitReport.write(results, args: Array(CommandLine.arguments.dropFirst(2)), timestamp: startedAt,
                                  properties: properties.map { ($0.name, $0.value) }, to: junitFile)
        }
        // The report is out either way; a history that cannot take the run only warns.
        do {
            let checks = results.map {
                RunHistory.Check(name: $0.name, result: $0.outcome.rawValue, readySeconds: $0.readySeconds, restarts: $0.restarts,
                                 drops: $0.drops, durationSeconds: $0.durationSeconds, reason: $0.reason)
            }
            try RunHistory(path: historyPath).append(RunHistory.Run(
                started: RFC3339.string(startedAt), cluster: cluster, exitCode: Int(summary.exitCode.rawValue),
                durationSeconds: summary.durationSeconds, checks: checks))
        } catch {
            progress("conntest: warning: run not kept in \(historyPath): \(error)")
        }
    }
}

/// Progress goes to stderr so stdout stays the report.
func progress(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Every node agent's drop stream while the run lasts (they start before anything is applied), for
/// the per-check `drops` of the report and `--monitor`'s live lines.
private final class DropCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [DropRecord] = []
    private var finished = false
    private var tasks: [Task<Void, Never>] = []

    init(local: LocalCluster, nodes: [String], echo: Bool) {
        for node in nodes {
            let socket = local.layout.agentSocket(node)
            tasks.append(Task { [weak self] in
                do {
                    for try await record in AgentMonitorClient.drops(socketPath: socket) {
                        // After `finish` nothing is kept or printed: --monitor shows exactly what the report counts.
                        guard let self, self.lock.withLock({ () -> Bool in
                            guard !self.finished else { return false }
                            self.records.append(record)
                            return true
                        }) else { break }
                        if echo { progress(record.summary) }
                    }
                } catch {
                    if !Task.isCancelled { progress("conntest: drop stream of \(node) ended: \(error)") }
                }
            })
        }
    }

    /// Stops collecting and returns `namespace/name` of the sending pod → drops.
    func finish() -> [String: Int] {
        lock.withLock {
            finished = true
            return records.reduce(into: [:]) { counts, r in if let pod = r.sourcePod { counts[pod, default: 0] += 1 } }
        }
    }

    func stop() { lock.withLock { tasks }.forEach { $0.cancel() } }
}

/// Undoes a run through the API, once however it ends: the workload and its namespace, the
/// simulated internet it published, the client.
private final class APIRunTeardown: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private var withdraw = false
    private let client: KubeClient
    private let workload: KubeWorkload
    private let scope: CleanupScope

    init(client: KubeClient, workload: KubeWorkload, scope: CleanupScope) {
        self.client = client
        self.workload = workload
        self.scope = scope
    }

    func withdrawSimulatedInternet() { lock.withLock { withdraw = true } }

    /// `scope` (default: the flags') says what goes.
    func run(scope: CleanupScope? = nil) async {
        let (first, withdraw) = lock.withLock { () -> (Bool, Bool) in
            defer { done = true }
            return (!done, self.withdraw)
        }
        guard first else { return }
        for line in await workload.cleanup(deadline: .now + .seconds(60), scope: scope ?? self.scope) { progress("conntest: cleanup: \(line)") }
        if withdraw {
            do { try await SimulatedInternet.withdraw(client) } catch { progress("conntest: cleanup: \(error)") }
        }
        await client.shutdown()
    }

    /// For a signal handler's queue (not the async pool): waits for `run`, at most 70 s.
    func runBlocking() {
        guard !lock.withLock({ done }) else { return }  // the normal end already ran it; never block the async pool
        let finished = DispatchSemaphore(value: 0)
        Task { await self.run(); finished.signal() }
        _ = finished.wait(timeout: .now() + 70)
    }
}

private final class LastLine: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: Substring = ""
    private var at = -100.0

    func shouldPrint(_ counts: Substring, at seconds: Double) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard counts != self.counts || seconds - at >= 5 else { return false }
        self.counts = counts
        at = seconds
        return true
    }
}

