import Foundation
import HTTPSupport
import HealthAPI

/// `agent cluster up|down|list|exec|fault`: N nodes as network namespaces on this machine.
public struct LocalCluster {
    public let layout: StateLayout

    public init(name: String, stateRoot: String = StateLayout.defaultRoot) throws {
        try StateLayout.validate(clusterName: name)
        layout = StateLayout(cluster: name, root: stateRoot)
    }

    public var name: String { layout.cluster }

    public func loadSpec() throws -> ClusterSpec {
        guard FileManager.default.fileExists(atPath: layout.specPath) else {
            throw AgentError("cluster '\(name)' is not up (no \(layout.specPath)); run `agent cluster up --name \(name)`")
        }
        return try ClusterSpec.load(layout.specPath)
    }

    // MARK: up

    public enum UpResult: Equatable {
        case created, alreadyUp
        /// A damaged cluster was mended: these nodes were restarted or rebuilt (none when only the
        /// control plane or the supervisor was), the rest left alone.
        case repaired(nodes: [String])
    }

    /// Idempotent: an intact cluster is left alone, a damaged one has only what is damaged
    /// restarted or rebuilt (agents, nodes, control-plane components), keeping its settings; a
    /// request to change a running cluster's settings is refused. With a control plane
    /// (`ControlPlane`) the nodes join it. Every value is checked before anything is created; a
    /// failure after that removes what was made.
    public func up(_ request: ClusterUpRequest, progress: (String) -> Void) async throws -> UpResult {
        try request.validate()
        // A running cluster keeps its control plane (or its lack of one) unless asked otherwise.
        let running = try? ClusterSpec.load(layout.specPath)
        if let running { try request.checkMatches(running) }  // before looking for binaries it may not need
        let kubernetes = request.kubernetes ?? running.map { $0.kubernetes != nil } ?? request.kubernetesByDefault
        if (request.health ?? running?.healthMode) == .daemonset, !kubernetes {
            throw ClusterUpRequest.daemonSetNeedsKubernetes
        }
        let binaries = kubernetes ? try ControlPlaneBinaries.locate() : nil
        let lock = try ClusterLock(path: layout.lockPath)
        defer { lock.release() }

        var rebuild: ClusterSpec?
        if let existing = try? ClusterSpec.load(layout.specPath) {
            try request.checkMatches(existing)
            // BEGIN repair (issue 14): only what is damaged, with the cluster's own settings.
            let repair = ClusterRepair(layout: layout, spec: existing)
            let findings = repair.findings()
            let controlPlane = binaries.flatMap { b in
                existing.kubernetes.map { ControlPlane(layout: layout, spec: existing, kube: $0, binaries: b) }
            }
            let deadComponents = controlPlane?.deadComponents() ?? []
            if findings.isEmpty, deadComponents.isEmpty { return .alreadyUp }
            let damage = findings.map(\.description) + deadComponents.map { "control plane: \($0) not running" }
            progress("cluster '\(name)' is damaged (\(damage.joined(separator: ", ")))")
            let controlPlaneGone = existing.kubernetes != nil && !Netns.exists(layout.controlPlaneNamespace)
            if findings != [.bridgeMissing], !controlPlaneGone {
                let nodes = try repair.repairNodes(findings)
                if !nodes.isEmpty {
                    progress("restarting \(nodes.joined(separator: ", "))")
                    try await waitForAgents(existing, only: nodes, timeout: .seconds(30))
                }
                if let controlPlane {
                    // Restart only what died, on etcd's data, as a kubelet restarts a static pod.
                    try await controlPlane.repair(progress: progress)
                    try await controlPlane.waitNodesReady(timeout: .seconds(60), progress: progress)
                }
                try AgentSupervisor(layout: layout).start()
                return .repaired(nodes: nodes)
            }
            progress("rebuilding cluster '\(name)' with its settings")
            rebuild = existing
            // END repair
        }
        teardown()

        var spec = rebuild ?? request.plan(name: name)
        let nodes = spec.nodes.count
        do {
            try NeighbourTable().ensureCapacity(nodes: nodes, ipv6: spec.ipv6, progress: progress)
            progress("creating \(nodes) node namespaces and bridge")
            try ClusterNetwork(layout: layout, spec: spec).create()
            var controlPlane: ControlPlane?
            if let binaries {
                let listener = try HostListener()
                let kube = ControlPlane.plan(ipv6: spec.ipv6, hostPort: listener.port)
                spec.kubernetes = kube
                let cp = ControlPlane(layout: layout, spec: spec, kube: kube, binaries: binaries)
                try await cp.start(listener: listener, progress: progress)
                controlPlane = cp
                // Found (or built) once here, not by N agents at once; without it pods run unenforced.
                do {
                    spec.policyObject = try PolicyObjectLocator.locateOrBuild()
                } catch {
                    spec.policyObjectError = "\(error)"
                    progress("policy datapath unavailable, pods will run without policy enforcement: \(error)")
                }
            }
            try spec.save(layout.specPath)
            for node in spec.nodes {
                _ = try AgentSupervisor.spawnAgent(node.name, layout: layout)
            }
            progress("waiting for \(nodes) agents")
            try await waitForAgents(spec, timeout: .seconds(30))
            try await controlPlane?.waitNodesReady(timeout: .seconds(60), progress: progress)
            if controlPlane != nil, spec.healthMode == .agent { try await waitForViews(spec, timeout: .seconds(15)) }
            try AgentSupervisor(layout: layout).start()
        } catch {
            teardown()
            unlink(layout.lockPath)  // nothing is left of the cluster, so neither is its lock
            throw error
        }
        return .created
    }

    /// The former signature, for callers that always pass every setting.
    public func up(nodes: Int, ipv6: Bool, probeRatio: Double,
                   endpointCheck: ClusterSpec.EndpointCheckTiming = .upstream, kubernetes: Bool = false,
                   progress: (String) -> Void) async throws -> UpResult {
        try await up(ClusterUpRequest(nodes: nodes, ipv6: ipv6, probeRatio: probeRatio,
                                      endpointCheckSeconds: endpointCheck.checkSeconds,
                                      endpointRelaunchSeconds: endpointCheck.relaunchAfterSeconds, kubernetes: kubernetes),
                     progress: progress)
    }

    func waitForAgents(_ spec: ClusterSpec, only: [String]? = nil, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        var pending = only ?? spec.nodes.map(\.name)
        while !pending.isEmpty {
            var still: [String] = []
            for node in pending where !(await answers(node, health: spec.healthMode == .agent)) { still.append(node) }
            pending = still
            if pending.isEmpty { break }
            guard ContinuousClock.now < deadline else {
                let logs = pending.map { "\($0): \(lastLines(layout.agentLog($0)))" }.joined(separator: "\n")
                throw AgentError("agents did not come up within 30s: \(pending.joined(separator: ", "))\n\(logs)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// With a control plane an agent learns its peers from the apiserver, which has them only
    /// once they registered: `up` returns when every agent's health view lists every node (the
    /// prober asks again every 0.5 s), so "up" means probing, and a view that outlives the
    /// apiserver (its last good list) is complete.
    private func waitForViews(_ spec: ClusterSpec, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        for node in spec.nodes.map(\.name) {
            let health = APIClient(endpoint: .unix(path: layout.healthSocket(node)), timeout: .seconds(2))
            while (try? await health.json(.GET, "/v1beta/status", as: HealthStatusResponse.self))?.nodes.count != spec.nodes.count {
                guard ContinuousClock.now < deadline else {
                    throw AgentError("\(node)'s health view did not list all \(spec.nodes.count) nodes within \(timeout)")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// The agent API answers, and the agent's health API unless DaemonSets run health.
    private func answers(_ node: String, health checkHealth: Bool) async -> Bool {
        let health = APIClient(endpoint: .unix(path: layout.healthSocket(node)), timeout: .seconds(2))
        let agent = APIClient(endpoint: .unix(path: layout.agentSocket(node)), timeout: .seconds(2))
        guard (try? await agent.send(.GET, "/v1/healthz"))?.status == 200 else { return false }
        guard checkHealth else { return true }
        return (try? await health.send(.GET, "/v1beta/status"))?.status == 200
    }

    private func lastLines(_ path: String) -> String { LogTail.lines(path, count: 3, separator: " | ") }

    // MARK: down

    /// Removes every process, namespace and file of this cluster, also after a crash (nothing is
    /// taken on trust from the state files: namespaces are found by name, processes by namespace).
    public func down() throws -> (namespaces: Int, processes: Int) {
        let lock = try ClusterLock(path: layout.lockPath)
        defer { lock.release() }
        let removed = teardown()
        unlink(layout.lockPath)
        return removed
    }

    @discardableResult
    private func teardown() -> (namespaces: Int, processes: Int) {
        var killed = 0
        AgentSupervisor(layout: layout).stop()  // first, or it restarts the agents stopped below
        // Agents first so they do not relaunch their endpoints (or start pods) while we delete them.
        let nodeDirs = (try? FileManager.default.contentsOfDirectory(atPath: layout.clusterDir)) ?? []
        for dir in nodeDirs {
            if let pid = DetachedProcess.readPidfile(layout.agentPidfile(dir)), DetachedProcess.isAlive(pid) {
                DetachedProcess.stop(pid, grace: 2)
                killed += 1
            }
        }
        // Listed only now: a running agent (as kubelet) creates pod namespaces until it stops.
        let owned = Netns.list().filter(layout.ownsNamespace)
        for ns in owned {
            for pid in Netns.pids(ns) where DetachedProcess.isAlive(pid) {
                DetachedProcess.stop(pid, grace: 2)
                killed += 1
            }
        }
        for ns in owned { Netns.delete(ns) }
        ResolvConf.removeAll(owned: layout)  // what a killed `conntest run` left
        try? FileManager.default.removeItem(atPath: layout.clusterDir)
        return (owned.count, killed)
    }

    // MARK: list

    public struct Summary: Sendable {
        public let name: String
        public let nodes: Int
        public let ipv6: Bool
        public let agentsRunning: Int
        public let orphaned: Bool
    }

    /// Clusters with a state directory, plus ones whose namespaces survive without one.
    public static func list(stateRoot: String = StateLayout.defaultRoot) -> [Summary] {
        var names = Set(((try? FileManager.default.contentsOfDirectory(atPath: stateRoot)) ?? []).filter {
            FileManager.default.fileExists(atPath: "\(stateRoot)/\($0)/cluster.json")
        })
        for ns in Netns.list() where ns.hasPrefix("nh-") && ns.hasSuffix("-br") {
            names.insert(String(ns.dropFirst(3).dropLast(3)))
        }
        return names.sorted().map { name in
            let layout = StateLayout(cluster: name, root: stateRoot)
            guard let spec = try? ClusterSpec.load(layout.specPath) else {
                return Summary(name: name, nodes: Netns.list().filter { layout.ownsNamespace($0) && layout.isNodeNamespace($0) }.count,
                               ipv6: false, agentsRunning: 0, orphaned: true)
            }
            let running = spec.nodes.filter {
                DetachedProcess.readPidfile(layout.agentPidfile($0.name)).map(DetachedProcess.isAlive) == true
            }.count
            return Summary(name: name, nodes: spec.nodes.count, ipv6: spec.ipv6, agentsRunning: running, orphaned: false)
        }
    }

    // MARK: exec

    /// Replaces this process with `command` inside the node's namespace; the node's health socket
    /// becomes cilium-health's default `-H`, and our binaries come first on PATH.
    public func exec(node: String, command: [String]) throws -> Never {
        let spec = try loadSpec()
        guard spec.node(named: node) != nil else {
            throw AgentError("no node '\(node)' in cluster '\(name)'; nodes: \(spec.nodes.map(\.name).joined(separator: ", "))")
        }
        guard !command.isEmpty else { throw AgentError("missing command: agent cluster exec \(node) -- CMD...") }
        var env = ProcessInfo.processInfo.environment
        env["CILIUM_HEALTH_SOCK"] = spec.healthSocket(node, layout: layout)
        env["CILIUM_SOCK"] = layout.agentSocket(node)
        env["PATH"] = DetachedProcess.executableDirectory + ":" + (env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin")
        let nsenter = try Command.resolve("nsenter")
        let argv = [nsenter, "--net=/run/netns/\(layout.nodeNamespace(node))", "--"] + command
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(nsenter, &cArgs, &cEnv)
        let err = String(cString: strerror(errno))
        cArgs.forEach { free($0) }
        cEnv.forEach { free($0) }
        throw AgentError("cannot exec nsenter: \(err)")
    }

    // MARK: fault

    public func fault(node: String, change: (inout FaultSpec) -> Void) throws -> FaultSpec {
        let spec = try loadSpec()
        guard spec.node(named: node) != nil else {
            throw AgentError("no node '\(node)' in cluster '\(name)'; nodes: \(spec.nodes.map(\.name).joined(separator: ", "))")
        }
        // Faults now start processes: never race `down` or another `fault` on this cluster.
        let lock = try ClusterLock(path: layout.lockPath)
        defer { lock.release() }
        let path = layout.faultPath(node)
        let old = (try? JSONDecoder().decode(FaultSpec.self, from: Data(contentsOf: URL(fileURLWithPath: path)))) ?? FaultSpec()
        var fault = old
        change(&fault)
        if let ms = fault.delayMs {
            guard (1...FaultSpec.maxDelayMs).contains(ms) else {
                throw AgentError("delay must be 1-\(FaultSpec.maxDelayMs) ms, got \(ms)")
            }
            // Bound before the rule appears, so the delay is in force when this returns.
            if old.delayMs != ms || runningDelay(node) == nil { try startDelay(node: node, ms: ms) }
        }
        do {
            try fault.apply(namespace: layout.nodeNamespace(node), controlPlane: spec.kubernetes.map { [$0.apiServerIPv4] } ?? [])
        } catch {
            if old.delayMs == nil { stopDelay(node: node) }
            throw error
        }
        if fault.delayMs == nil { stopDelay(node: node) }
        if fault.isEmpty {
            unlink(path)
        } else {
            try AtomicFile.write(try JSONEncoder().encode(fault), to: path)
        }
        return fault
    }

    /// The node's nfq-delay pid, if that process is alive and really nfq-delay (pids get reused).
    public func runningDelay(_ node: String) -> pid_t? {
        guard let pid = DetachedProcess.readPidfile(layout.delayPidfile(node)), DetachedProcess.isAlive(pid),
              let cmdline = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")),
              let argv0 = cmdline.split(separator: 0).first,
              String(decoding: argv0, as: UTF8.self).hasSuffix("nfq-delay") else { return nil }
        return pid
    }

    /// (Re)starts nfq-delay in the node's namespace and waits until it has bound the queue.
    private func startDelay(node: String, ms: Int) throws {
        stopDelay(node: node)
        let binary = DetachedProcess.executableDirectory + "/nfq-delay"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw AgentError("\(binary) not found: build it next to agent (swift build --product nfq-delay)")
        }
        let pidfile = layout.delayPidfile(node)
        let pid = try DetachedProcess.spawn(
            ["nsenter", "--net=/run/netns/\(layout.nodeNamespace(node))", binary,
             "--queue", "\(FaultSpec.delayQueue)", "--delay-ms", "\(ms)", "--pidfile", pidfile],
            logPath: layout.delayLog(node))
        // nfq-delay writes its pidfile only once the queue is bound and configured.
        let deadline = Date().addingTimeInterval(5)
        while DetachedProcess.readPidfile(pidfile) != pid {
            guard DetachedProcess.isAlive(pid) else {
                throw AgentError("nfq-delay exited at start: \(lastLines(layout.delayLog(node)))")
            }
            guard Date() < deadline else {
                DetachedProcess.stop(pid, grace: 1)
                throw AgentError("nfq-delay did not bind its queue within 5s: \(lastLines(layout.delayLog(node)))")
            }
            usleep(20_000)
        }
    }

    /// SIGTERM lets nfq-delay release the packets it holds and unbind; a stale pidfile is removed.
    private func stopDelay(node: String) {
        if let pid = runningDelay(node) { DetachedProcess.stop(pid, grace: 2) }
        unlink(layout.delayPidfile(node))
    }
}

enum ProbeIntervalCheck {
    static func validate(_ ratio: Double) throws -> Double {
        guard ratio >= 0, ratio <= 1, ratio.isFinite else {
            throw AgentError("--probe-ratio must be within [0, 1], got \(ratio)")
        }
        return ratio
    }
}

/// An exclusive flock so two `up`/`down` runs on one cluster never interleave. With `wait: false`
/// a held lock fails at once with `Busy`, naming the holder's pid (written into the file).
public struct ClusterLock {
    public struct Busy: Error, CustomStringConvertible {
        public var holder: pid_t?
        public var description: String { "held by pid \(holder.map(String.init) ?? "?")" }
    }

    let fd: Int32

    public init(path: String, wait: Bool = true) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AgentError("cannot open lock \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            close(fd)
            if busy { throw Busy(holder: DetachedProcess.readPidfile(path)) }
            throw AgentError("cannot lock \(path): \(String(cString: strerror(errno)))")
        }
        if !wait {
            // Who holds it, for the next caller's error message.
            let text = "\(getpid())\n"
            _ = ftruncate(fd, 0)
            _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        }
    }

    public func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
