import Foundation
import Logging

/// Keeps a local cluster's node agents running, as kubelet (or systemd) keeps Cilium's agent
/// running on a real node: one `agent cluster supervise` process per cluster, in the host
/// namespace, started by `cluster up` and stopped first by `cluster down`. A dead agent is
/// restarted within `checkInterval` plus its start time; the new agent reads the cluster file
/// (the cluster's settings) and rebuilds its health endpoint, so the old responder is never left
/// answering for a dead agent. An agent that keeps dying is restarted with a doubling delay
/// (at most `maxBackoff`), like a CrashLoopBackOff.
public struct AgentSupervisor: Sendable {
    public let layout: StateLayout

    public static let checkInterval: Duration = .milliseconds(200)
    public static let maxBackoff: Duration = .seconds(10)
    /// An agent that ran this long before dying starts the backoff over.
    static let stableAfter: Duration = .seconds(10)

    public init(layout: StateLayout) { self.layout = layout }

    // MARK: the supervisor process, seen from `up` and `down`

    /// The running supervisor's pid, if its pidfile names a live `agent` process.
    public var runningPid: pid_t? {
        guard let pid = DetachedProcess.readPidfile(layout.supervisorPidfile), DetachedProcess.isAlive(pid),
              let cmdline = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return nil }
        let argv = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return argv.contains("supervise") && argv.contains(layout.cluster) ? pid : nil
    }

    /// Starts the supervisor unless one runs; returns once it has written its pidfile.
    public func start() throws {
        guard runningPid == nil else { return }
        let pid = try DetachedProcess.spawn(
            [DetachedProcess.executableDirectory + "/agent", "cluster", "supervise", "--name", layout.cluster,
             "--state-dir", layout.root],
            logPath: layout.supervisorLog)
        let deadline = ContinuousClock.now + .seconds(5)
        while DetachedProcess.readPidfile(layout.supervisorPidfile) != pid {
            guard DetachedProcess.isAlive(pid), ContinuousClock.now < deadline else {
                DetachedProcess.stop(pid, grace: 1)
                throw AgentError("agent supervisor did not start: \(LogTail.lines(layout.supervisorLog, count: 1, separator: ""))")
            }
            usleep(20_000)
        }
    }

    /// Stops the supervisor (before agents are stopped, so it does not restart them).
    public func stop() {
        if let pid = runningPid { DetachedProcess.stop(pid, grace: 2) }
        unlink(layout.supervisorPidfile)
    }

    /// Starts `agent node run` for `node` inside its namespace: the one place that command is built.
    static func spawnAgent(_ node: String, layout: StateLayout) throws -> pid_t {
        try FileManager.default.createDirectory(atPath: layout.nodeDir(node), withIntermediateDirectories: true)
        return try DetachedProcess.spawn(
            ["nsenter", "--net=/run/netns/\(layout.nodeNamespace(node))", DetachedProcess.executableDirectory + "/agent",
             "node", "run", "--cluster", layout.cluster, "--node", node, "--state-dir", layout.root],
            logPath: layout.agentLog(node))
    }

    static func agentPid(_ node: String, layout: StateLayout) -> pid_t? {
        DetachedProcess.readPidfile(layout.agentPidfile(node)).flatMap { DetachedProcess.isAlive($0) ? $0 : nil }
    }

    // MARK: the supervisor process itself

    /// The loop of `agent cluster supervise`: returns when the cluster file is gone (the cluster
    /// was taken down) or on cancellation.
    public func run(logger: Logger) async throws {
        try AtomicFile.write(Data("\(getpid())\n".utf8), to: layout.supervisorPidfile)
        defer {
            if DetachedProcess.readPidfile(layout.supervisorPidfile) == getpid() { unlink(layout.supervisorPidfile) }
        }
        logger.info("supervising agents", metadata: ["cluster": "\(layout.cluster)"])
        var state = RestartState()
        while !Task.isCancelled {
            reapChildren()
            guard let spec = try? ClusterSpec.load(layout.specPath) else {
                logger.info("cluster file gone, supervisor exiting", metadata: ["path": "\(layout.specPath)"])
                return
            }
            for node in spec.nodes.map(\.name) {
                if let pid = Self.agentPid(node, layout: layout) ?? state.launched[node].flatMap({ DetachedProcess.isAlive($0) ? $0 : nil }) {
                    state.seenAlive(node, pid: pid)
                    continue
                }
                // A node whose namespace is gone needs `cluster up` (a network rebuild), not a restart.
                guard Netns.exists(layout.nodeNamespace(node)), state.mayRestart(node) else { continue }
                do {
                    let pid = try Self.spawnAgent(node, layout: layout)
                    state.restarted(node, pid: pid)
                    logger.warning("agent was not running, restarted", metadata: [
                        "node": "\(node)", "pid": "\(pid)", "restarts": "\(state.restarts[node, default: 0])"])
                } catch {
                    state.restarted(node, pid: nil)
                    logger.error("cannot restart agent", metadata: ["node": "\(node)", "error": "\(error)"])
                }
            }
            try await Task.sleep(for: Self.checkInterval)
        }
    }

    /// Restarted agents are our children: collect their exit status so they do not linger as zombies.
    private func reapChildren() {
        var status: Int32 = 0
        while waitpid(-1, &status, WNOHANG) > 0 {}
    }

    /// Per-node restart bookkeeping: the first restart is immediate, then 0.4 s, 0.8 s … up to
    /// `maxBackoff` while the agent keeps dying within `stableAfter` of its start.
    struct RestartState {
        var launched: [String: pid_t] = [:]
        var startedAt: [String: ContinuousClock.Instant] = [:]
        var notBefore: [String: ContinuousClock.Instant] = [:]
        var quickDeaths: [String: Int] = [:]
        var restarts: [String: Int] = [:]

        mutating func seenAlive(_ node: String, pid: pid_t) {
            if launched[node] != pid {
                launched[node] = pid
                startedAt[node] = .now
            }
            if let start = startedAt[node], ContinuousClock.now - start >= AgentSupervisor.stableAfter {
                quickDeaths[node] = 0
            }
        }

        func mayRestart(_ node: String) -> Bool { notBefore[node].map { ContinuousClock.now >= $0 } ?? true }

        mutating func restarted(_ node: String, pid: pid_t?) {
            let deaths = quickDeaths[node, default: 0]
            let delay = deaths == 0 ? Duration.zero : min(AgentSupervisor.maxBackoff, .milliseconds(200) * (1 << min(deaths, 10)))
            notBefore[node] = .now + delay
            quickDeaths[node] = deaths + 1
            restarts[node, default: 0] += 1
            launched[node] = pid
            startedAt[node] = .now
        }
    }

}

extension StateLayout {
    public var supervisorPidfile: String { "\(clusterDir)/supervisor.pid" }
    public var supervisorLog: String { "\(clusterDir)/supervisor.log" }
}
