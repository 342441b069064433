import Agent
import ArgumentParser
import CommandLineSupport
import ConnTest
import ConnTestLocal
import Foundation
import HealthAPI
import HealthHistory

enum RunOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension RunIPFamily: ExpressibleByArgument {}

/// `conntest run`: the workload on a local cluster, reported as cilium-cli would.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the selected connectivity checks on a local namespace cluster and report.",
        discussion: """
            Brings the cluster up if needed (and down again afterwards unless --keep-cluster), creates one \
            network namespace per pod, a cluster DNS (dnsmasq), nftables service tables on every node and \
            echo-server processes, then evaluates every check's readiness/liveness probes with Kubernetes \
            semantics. Probes run via `ip netns exec`; `ash` in a probe runs as /bin/sh. CNP/NetworkPolicy \
            L3/L4 rules are enforced by the eBPF datapath (bpf/policy.bpf.o, built on demand; \
            $DATAPATH_BPF_OBJECT overrides); without it, policy checks are skipped. L7/FQDN rules are \
            not enforced: checks carrying them are skipped.

            External checks run against a simulated external host when --external-ip names an address in \
            198.18.0.0/15 outside the cluster's ranges (nodes 198.18.0.0/24, services 198.18.128.0/20, pods \
            198.19.0.0/16), e.g. 198.18.200.1: namespace nh-<cluster>-ext on the cluster bridge, HTTPS on 443 \
            (certificate from a throwaway CA every pod trusts) and HTTP on 80, with the cluster DNS answering \
            --external-fqdn (default www.google.com) with that address. Without --external-ip they are skipped; \
            other addresses are refused, so probe traffic never leaves the machine.

            -t filters select checks as upstream's cue does; the run then adds, from the unfiltered suite, \
            the echo servers and Services the selected checks probe (a deny check must not pass because \
            its target does not exist).

            Exit codes: 0 all ran checks passed, 1 a check failed, 2 usage or setup error, 3 inconclusive \
            (--exit-zero-on-failure turns 1 and 3 into 0).
            """)

    @OptionGroup var selection: SelectionOptions

    @Option(help: "Local cluster to run on.")
    var cluster = "local"

    @Option(parsing: .unconditional, help: "Nodes when the cluster has to be brought up (default 3); an existing cluster keeps its own.")
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

    @Option(name: .customLong("time-scale"), parsing: .unconditional, help: "Multiplier for probe periods and delays (timeouts stay real).")
    var timeScale = 0.1

    @Flag(name: .customLong("keep-cluster"), help: "Leave a cluster this run brought up running.")
    var keepCluster = false

    @Flag(help: "Print policy drop events on stderr as they happen (always written to <state>/<cluster>/drops.log).")
    var monitor = false

    @Option(name: .customLong("history-db"),
            help: ArgumentHelp("Append this run's result to this run history (default: <state>/conntest-history.db; `conntest history` lists it).", valueName: "path"))
    var historyDB: String?

    var historyPath: String { historyDB ?? RunHistoryOptions.defaultPath }

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
        if let ip = selection.externalIP {
            try ExternalHostAddress.validate(ip)
            guard ipFamily == .ipv4 else {
                throw ConnTestError("--external-ip cannot be combined with --ip-family ipv6: the simulated external host is IPv4-only, so its checks would not test IPv6")
            }
        }
        let workload = try RunWorkload(resources: resources)
        // Output files are checked before anything exists: a bad path must not cost a whole run.
        if let junitFile { try OutputFile.checkWritable(junitFile, flag: "--junit-file") }
        do { _ = try RunHistory(path: historyPath) } catch { throw ConnTestError("invalid --history-db: \(error)") }
        if workload.checks.isEmpty {
            // Nothing to run proves nothing: inconclusive, and no cluster is touched.
            let summary = RunSummary(results: [])
            progress("conntest: \(summary.inconclusiveReason ?? "no check ran")")
            try report([], summary: summary, timeoutSeconds: nil, startedAt: Date())
            Foundation.exit(exitZeroOnFailure ? RunExitCode.success.rawValue : summary.exitCode.rawValue)
        }
        let local: LocalCluster
        do { local = try LocalCluster(name: cluster) } catch { throw ConnTestError("\(error)") }
        // One workload per cluster: a second run would clean up (delete) the first one's pods.
        let runLock: ClusterLock
        do {
            runLock = try ClusterLock(path: local.layout.runLockPath, wait: false)
        } catch let busy as ClusterLock.Busy {
            throw ConnTestError("cluster '\(cluster)' is in use by another conntest run (pid \(busy.holder.map(String.init) ?? "?")); "
                + "wait for it to finish, or pass --cluster NAME to run on a cluster of its own")
        } catch {
            throw ConnTestError("\(error)")
        }
        defer { runLock.release() }

        if !completed.added.isEmpty {
            progress("adding what the selected checks probe: \(completed.added.joined(separator: ", "))")
        }
        let cleanup = RunCleanup()
        // SIGINT/SIGTERM: undo everything, then exit 128+signal as a shell would report it.
        let signals = SignalHandlers { sig in
            progress("conntest: signal \(sig): cleaning up")
            cleanup.run()
            Foundation.exit(128 + sig)
        }
        defer { withExtendedLifetime(signals) {} }

        let code: RunExitCode
        do {
            code = try await runOn(local, resources: resources, workload: workload, limit: limit, cleanup: cleanup)
        } catch {
            cleanup.run()
            fail("\(error)", code: RunExitCode.usage.rawValue)
        }
        cleanup.run()
        Foundation.exit(exitZeroOnFailure ? RunExitCode.success.rawValue : code.rawValue)
    }

    private func runOn(_ local: LocalCluster, resources: [Resource], workload: RunWorkload, limit: Duration,
                       cleanup: RunCleanup) async throws -> RunExitCode {
        if (try? local.loadSpec()) == nil {
            let count = nodes ?? 3
            progress("bringing up cluster '\(local.name)' with \(count) nodes")
            if !keepCluster { cleanup.removeClusterOnExit(name: local.name, stateRoot: local.layout.root) }
            _ = try await local.up(nodes: count, ipv6: ipFamily == .ipv6, probeRatio: 0.5) { progress($0) }
        }
        let spec = try local.loadSpec()
        if let nodes, nodes != spec.nodes.count {
            let have = spec.nodes.count
            progress("cluster '\(local.name)' is already up with \(have) node\(have == 1 ? "" : "s"); --nodes \(nodes) applies only "
                     + "when the run brings a cluster up (agent cluster down --name \(local.name) to change it)")
        }
        // Policy checks run only when the datapath loaded; otherwise they are skipped, never passed.
        var enforcement: PolicyEnforcement?
        if !workload.policies.isEmpty {
            do {
                let e = try PolicyEnforcement(nodes: spec.nodes.map(\.name))
                cleanup.track(e)
                enforcement = e
            } catch {
                progress("policy enforcement unavailable, policy checks will be skipped: \(error)")
            }
        }
        ExternalHost.removeLeftovers(layout: local.layout)  // a killed run's, even if this one has none
        let external = selection.externalIP.map {
            ExternalHost(layout: local.layout, cluster: spec, ip: $0,
                         fqdn: selection.externalFQDN ?? GeneratorOptions.defaultExternalFQDN)
        }
        let plan = try RunPlan(workload: workload, nodeCount: spec.nodes.count,
                               capabilities: LocalCapabilities(externalHost: external != nil,
                                                               policyEnforcement: enforcement != nil))
        let deployment = try LocalDeployment(layout: local.layout, cluster: spec, plan: plan,
                                             extraDNSRecords: external?.dnsRecords ?? [], family: ipFamily)
        cleanup.track(deployment)
        try deployment.deploy { progress($0) }
        if let external {
            cleanup.track(external)
            try external.start(for: deployment) { progress($0) }
        }
        if let enforcement {
            let policyPlan = try deployment.enforcementPlan(resources: resources)
            let enforced = policyPlan.endpoints.filter { $0.egressEnforced || $0.ingressEnforced }.map(\.pod)
            progress("enforcing policy on \(enforced.joined(separator: ", ")) (\(enforcement.objectPath))")
            let monitor = self.monitor
            let dropLog = try? DropLogFile(path: local.layout.dropLogPath)
            try enforcement.apply(policyPlan, layout: local.layout) { drop in
                dropLog?.append(drop.description)
                if monitor { progress(drop.description) }
            }
        }

        let runner = WorkloadRunner(timeScale: timeScale, timeout: limit)
        let lastLine = LastLine()
        let outcome = await runner.run(plan, exec: deployment.execProvider, onRestart: deployment.restartHook) { p in
            // One line per change of counts (and at most every 5 s otherwise): readable in CI logs.
            let line = ConsoleReport.progressLine(p)
            if lastLine.shouldPrint(line.drop { $0 != "]" }, at: p.elapsedSeconds) { progress(line) }
        }
        var results = outcome.results
        if let enforcement {
            let drops = await enforcement.stopMonitoring()
            for i in results.indices where results[i].outcome != .skipped {
                results[i].drops = drops.filter { $0.sourcePod == results[i].name }.count
            }
        }
        cleanup.run()

        try report(results, summary: outcome.summary, timeoutSeconds: outcome.timeoutSeconds, startedAt: outcome.startedAt)
        return outcome.summary.exitCode
    }

    /// The report on stdout, and the JUnit file when asked for.
    private func report(_ results: [CheckResult], summary: RunSummary, timeoutSeconds: Double?, startedAt: Date) throws {
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

