import Agent
import Foundation
import HealthAPI
import XCTest

/// A real local cluster for one test: namespaces, agents, health endpoints. Always torn down,
/// and the teardown itself is checked: nothing of the cluster may survive `down`.
final class ClusterFixture {
    let name: String
    let stateDir: String
    let binDir: String

    /// Without `kubernetes` the cluster has no control plane (`--no-kubernetes`): faster, for tests of
    /// the health path alone.
    /// `upEnvironment` is added to `cluster up`'s environment (e.g. a datapath object that cannot load).
    init(nodes: Int, ipv6: Bool = false, probeRatio: Double = 0, kubernetes: Bool = false,
         extraUpArguments: [String] = [], upEnvironment: [String: String] = [:]) throws {
        let scratch = ClusterNaming.Scratch()
        name = scratch.name
        stateDir = scratch.stateDir
        binDir = ClusterNaming.binDir
        let r = try agent(["cluster", "up", "--name", name, "--nodes", "\(nodes)", "--probe-ratio", "\(probeRatio)"]
                          + (ipv6 ? ["--ipv6"] : []) + (kubernetes ? [] : ["--no-kubernetes"]) + extraUpArguments,
                          timeout: kubernetes ? 180 : 60, environment: upEnvironment)
        guard r.status == 0 else {
            _ = try? agent(["cluster", "down", "--name", name])
            throw AgentError("cluster up failed: \(r.stdout)\(r.stderr)")
        }
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["NETHEALTH_STATE_DIR"] = stateDir
        return env
    }

    func agent(_ args: [String], timeout: TimeInterval = 30, environment: [String: String] = [:]) throws -> Command.Result {
        let extra = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return try Command.run(["env", "NETHEALTH_STATE_DIR=\(stateDir)"] + extra + ["\(binDir)/agent"] + args, timeout: timeout)
    }

    /// Runs cilium-health inside a node, the way a user would.
    func ciliumHealth(_ node: String, _ args: [String], timeout: TimeInterval = 40) throws -> Command.Result {
        try agent(["cluster", "exec", "--name", name, node, "--", "cilium-health"] + args, timeout: timeout)
    }

    func status(_ node: String = "node-1", probe: Bool = false) throws -> HealthStatusResponse {
        let r = try ciliumHealth(node, ["status", "-o", "json"] + (probe ? ["--probe"] : []))
        guard r.status == 0 else { throw AgentError("cilium-health failed (\(r.status)): \(r.stderr)") }
        return try JSONDecoder().decode(HealthStatusResponse.self, from: Data(r.stdout.utf8))
    }

    func fault(_ node: String, _ args: [String]) throws {
        let r = try agent(["cluster", "fault", "--name", name, node] + args)
        guard r.status == 0 else { throw AgentError("fault failed: \(r.stderr)") }
    }

    /// Scrapes the node's Prometheus endpoint from inside the node's namespace.
    func metrics(_ node: String) throws -> String {
        guard let i = Int(node.split(separator: "-").last ?? "") else { throw AgentError("bad node \(node)") }
        let r = try agent(["cluster", "exec", "--name", name, node, "--", "curl", "-sS", "--max-time", "5",
                           "http://198.18.0.\(10 + i):9962/metrics"])
        guard r.status == 0 else { throw AgentError("scrape failed: \(r.stderr)") }
        return r.stdout
    }

    var layout: StateLayout { StateLayout(cluster: name, root: stateDir) }

    /// Agent pids and namespaces of this cluster, to check that `down` removed them.
    func footprint() -> (namespaces: [String], pids: [pid_t]) {
        let namespaces = Netns.list().filter(layout.ownsNamespace)
        let pids = namespaces.flatMap(Netns.pids)
        return (namespaces, pids)
    }

    func down(file: StaticString = #filePath, line: UInt = #line) {
        let before = footprint()
        let supervisor = AgentSupervisor(layout: layout).runningPid
        let r = try? agent(["cluster", "down", "--name", name])
        XCTAssertEqual(r?.status, 0, "down failed: \(r?.stderr ?? "")", file: file, line: line)
        let after = footprint()
        XCTAssertEqual(after.namespaces, [], "namespaces left behind", file: file, line: line)
        if let supervisor { XCTAssertFalse(DetachedProcess.isAlive(supervisor), "supervisor left behind", file: file, line: line) }
        for pid in before.pids {
            XCTAssertFalse(DetachedProcess.isAlive(pid), "process \(pid) left behind", file: file, line: line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: layout.clusterDir), "state left behind", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: layout.lockPath), "lock file left behind", file: file, line: line)
        try? FileManager.default.removeItem(atPath: stateDir)
    }
}

extension NodeStatus {
    var allPaths: [PathStatus] { (host?.allPaths ?? []) + (healthEndpoint?.allPaths ?? []) }
}

extension PathStatus {
    var fullyReachable: Bool {
        icmp?.status == "" && http?.status == "" && (icmp?.latency ?? 0) > 0 && (http?.latency ?? 0) > 0
    }
}
