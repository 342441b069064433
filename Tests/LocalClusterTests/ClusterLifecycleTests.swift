import Agent
import Foundation
import HTTPSupport
import HealthAPI
import HealthDaemon
import XCTest

final class ClusterLifecycleTests: XCTestCase {
    func testUpIsIdempotentAndShapeChangesAreRefused() throws {
        let cluster = try ClusterFixture(nodes: 2)
        defer { cluster.down() }
        let pids = cluster.footprint().pids
        let again = try cluster.agent(["cluster", "up", "--name", cluster.name, "--nodes", "2", "--probe-ratio", "0", "--no-kubernetes"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("already up"), again.stdout)
        XCTAssertEqual(Set(cluster.footprint().pids), Set(pids), "an idempotent up must not restart agents")

        let plain = try cluster.agent(["cluster", "up", "--name", cluster.name])
        XCTAssertEqual(plain.status, 0, "options left out keep the running values: \(plain.stderr)")
        XCTAssertTrue(plain.stdout.contains("already up with 2 nodes"), plain.stdout)

        let resize = try cluster.agent(["cluster", "up", "--name", cluster.name, "--nodes", "3"])
        XCTAssertEqual(resize.status, 1)
        XCTAssertTrue(resize.stderr.contains("it has 2 nodes, not 3"), resize.stderr)
        // A changed setting is refused with the reason, never ignored behind "already up".
        let ratio = try cluster.agent(["cluster", "up", "--name", cluster.name, "--probe-ratio", "0.5"])
        XCTAssertEqual(ratio.status, 1, ratio.stdout)
        XCTAssertTrue(ratio.stderr.contains("its --probe-ratio is 0.0, not 0.5"), ratio.stderr)
        let ipv6 = try cluster.agent(["cluster", "up", "--name", cluster.name, "--ipv6"])
        XCTAssertEqual(ipv6.status, 1, ipv6.stdout)
        XCTAssertTrue(ipv6.stderr.contains("it is IPv4-only, --ipv6 (dual-stack) was asked for"), ipv6.stderr)
        XCTAssertTrue(ipv6.stderr.contains("agent cluster down --name \(cluster.name)"), ipv6.stderr)
        XCTAssertEqual(Set(cluster.footprint().pids), Set(pids), "a refused change leaves the cluster alone")

        let list = try cluster.agent(["cluster", "list"])
        XCTAssertTrue(list.stdout.contains(cluster.name), list.stdout)
        XCTAssertTrue(list.stdout.contains("2/2 running"), list.stdout)
    }

    func testDownCleansUpAfterAgentsCrashed() throws {
        let cluster = try ClusterFixture(nodes: 2, probeRatio: 0.25)
        defer { cluster.down() }
        // Simulate a crash of everything: the supervisor, then the agents, none cleaning up.
        if let pid = AgentSupervisor(layout: cluster.layout).runningPid { kill(pid, SIGKILL) }
        for node in ["node-1", "node-2"] {
            if let pid = DetachedProcess.readPidfile(cluster.layout.agentPidfile(node)) { kill(pid, SIGKILL) }
        }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertFalse(cluster.footprint().namespaces.isEmpty)
        // A damaged cluster is repaired by `up`, not reported as up, and keeps its settings.
        let up = try cluster.agent(["cluster", "up", "--name", cluster.name])
        XCTAssertEqual(up.status, 0, up.stderr)
        XCTAssertTrue(up.stdout.contains("damaged"), up.stdout)
        XCTAssertTrue(up.stdout.contains("repaired node-1, node-2"), up.stdout)
        XCTAssertEqual(try ClusterSpec.load(cluster.layout.specPath).probeRatio, 0.25)
        XCTAssertNotNil(AgentSupervisor(layout: cluster.layout).runningPid, "the supervisor is back too")
        XCTAssertEqual(try cluster.status(probe: true).nodes.count, 2)
    }

    /// As kubelet restarts a crashed Cilium agent: back within 2 s with the cluster's settings,
    /// its health endpoint rebuilt (not the dead agent's responder), its view filled at once.
    func testKilledAgentIsRestartedWithinTwoSeconds() throws {
        let cluster = try ClusterFixture(nodes: 2, probeRatio: 0.5)
        defer { cluster.down() }
        let layout = cluster.layout
        let specBefore = try ClusterSpec.load(layout.specPath)
        let old = try XCTUnwrap(DetachedProcess.readPidfile(layout.agentPidfile("node-2")))
        let oldResponder = try XCTUnwrap(DetachedProcess.readPidfile(layout.healthEndpointPidfile("node-2")))
        kill(old, SIGKILL)
        let killed = Date()
        var answered: Date?
        while Date().timeIntervalSince(killed) < 10 {
            if let pid = DetachedProcess.readPidfile(layout.agentPidfile("node-2")), pid != old, DetachedProcess.isAlive(pid),
               (try? cluster.ciliumHealth("node-2", ["get"], timeout: 5))?.status == 0 {
                answered = Date()
                break
            }
            usleep(50_000)
        }
        let took = try XCTUnwrap(answered, "agent of node-2 not back within 10 s").timeIntervalSince(killed)
        print("agent restarted and answering \(String(format: "%.2f", took)) s after kill -9")
        XCTAssertLessThan(took, 2, "the supervisor restarts a dead agent within 2 s")
        XCTAssertFalse(DetachedProcess.isAlive(oldResponder), "the dead agent's responder must not live on")
        XCTAssertEqual(try ClusterSpec.load(layout.specPath), specBefore, "settings unchanged")
        // Ratio 0.5 and 4 addresses: an interval of 97 s; the first round probes everything at once.
        let deadline = Date().addingTimeInterval(15)
        var status = try cluster.status("node-2")
        while Date() < deadline, !(status.nodes.count == 2 && status.nodes.allSatisfy({ $0.allPaths.allSatisfy(\.fullyReachable) })) {
            Thread.sleep(forTimeInterval: 0.5)
            status = try cluster.status("node-2")
        }
        XCTAssertEqual(status.nodes.count, 2)
        for node in status.nodes {
            for path in node.allPaths { XCTAssertTrue(path.fullyReachable, "\(node.name) \(path.ip) not probed within 15 s") }
        }
        let expected = try ProbeInterval(ratio: 0.5).duration(ipCount: 4)
        XCTAssertEqual(status.probeInterval, goDurationString(nanoseconds: expected.nanoseconds), "the cluster's probe ratio")
        let log = try String(contentsOfFile: layout.supervisorLog, encoding: .utf8)
        XCTAssertTrue(log.contains("agent was not running, restarted"), log)
    }

    /// `up` on a cluster with one node's namespace gone rebuilds that node only.
    func testUpRepairsOnlyTheDamagedNode() throws {
        let cluster = try ClusterFixture(nodes: 3, probeRatio: 0.25)
        defer { cluster.down() }
        let layout = cluster.layout
        let healthy = ["node-1", "node-3"].map { DetachedProcess.readPidfile(layout.agentPidfile($0)) }
        Netns.delete(layout.nodeNamespace("node-2"))
        let up = try cluster.agent(["cluster", "up", "--name", cluster.name], timeout: 60)
        XCTAssertEqual(up.status, 0, up.stderr)
        XCTAssertTrue(up.stdout.contains("node-2: namespace missing"), up.stdout)
        XCTAssertTrue(up.stdout.contains("repaired node-2 "), up.stdout)
        XCTAssertEqual(["node-1", "node-3"].map { DetachedProcess.readPidfile(layout.agentPidfile($0)) }, healthy,
                       "healthy nodes keep their agents")
        XCTAssertEqual(try ClusterSpec.load(layout.specPath).probeRatio, 0.25, "settings kept")
        let status = try cluster.status("node-1", probe: true)
        let node2 = try XCTUnwrap(status.nodes.first { $0.name.hasSuffix("node-2") })
        for path in node2.allPaths { XCTAssertTrue(path.fullyReachable, "\(path.ip) after repair") }
    }

    /// Upstream's socket mode: 0660 with a group, so a monitoring user in that group needs no root.
    func testSocketsAre0660WithTheConfiguredGroup() throws {
        let cluster = try ClusterFixture(nodes: 1, extraUpArguments: ["--socket-group", "daemon"])
        defer { cluster.down() }
        let daemonGID = try XCTUnwrap(getgrnam("daemon")).pointee.gr_gid
        for socket in [cluster.layout.agentSocket("node-1"), cluster.layout.healthSocket("node-1")] {
            let attributes = try FileManager.default.attributesOfItem(atPath: socket)
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o660, socket)
            XCTAssertEqual((attributes[.groupOwnerAccountID] as? NSNumber)?.uint32Value, daemonGID, socket)
        }
        // As user nobody: in group daemon the health API answers, without it the socket refuses.
        func asNobody(groups: String) throws -> Command.Result {
            try Command.run(["setpriv", "--reuid=65534", "--regid=65534", "--groups=\(groups)", "curl", "-sS", "--max-time", "5",
                             "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", cluster.layout.healthSocket("node-1"),
                             "http://health/v1beta/healthz"])
        }
        XCTAssertEqual(try asNobody(groups: "\(daemonGID)").stdout, "200")
        let refused = try asNobody(groups: "65534")
        XCTAssertNotEqual(refused.stdout, "200")
        XCTAssertTrue(refused.stderr.lowercased().contains("permission denied") || refused.stderr.contains("Couldn't connect"), refused.stderr)
    }

    func testExecRunsInsideTheNodeNamespace() throws {
        let cluster = try ClusterFixture(nodes: 2)
        defer { cluster.down() }
        let r = try cluster.agent(["cluster", "exec", "--name", cluster.name, "node-2", "--", "ip", "-4", "-o", "addr", "show", "dev", "eth0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("198.18.0.12/24"), r.stdout)
        let missing = try cluster.agent(["cluster", "exec", "--name", cluster.name, "node-9", "--", "true"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no node 'node-9'"), missing.stderr)
    }

    /// Upstream's controller rebuilds a dead health endpoint (cilium#31622, #35936); with the check
    /// every second and a 2 s grace, a killed responder is back within seconds.
    func testDeadHealthEndpointIsRelaunched() throws {
        let cluster = try ClusterFixture(nodes: 2, extraUpArguments: ["--endpoint-check-interval", "1",
                                                                      "--endpoint-relaunch-after", "2"])
        defer { cluster.down() }
        let pidfile = cluster.layout.healthEndpointPidfile("node-2")
        let old = try XCTUnwrap(DetachedProcess.readPidfile(pidfile))
        kill(old, SIGKILL)
        var down = try cluster.status(probe: true)
        let endpoint = { (s: HealthStatusResponse) in
            s.nodes.first { $0.name.hasSuffix("node-2") }?.healthEndpoint?.primaryAddress
        }
        XCTAssertNotEqual(endpoint(down)?.http?.status, "", "the killed responder must be seen as down")
        let deadline = Date().addingTimeInterval(30)
        var relaunched: pid_t?
        while Date() < deadline {
            if let pid = DetachedProcess.readPidfile(pidfile), pid != old, DetachedProcess.isAlive(pid) {
                relaunched = pid
                break
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertNotNil(relaunched, "health endpoint not relaunched within 30 s")
        down = try cluster.status(probe: true)
        XCTAssertEqual(endpoint(down)?.http?.status, "")
        XCTAssertEqual(endpoint(down)?.icmp?.status, "")
    }

    func testResponderAnswersHelloOnNodeAndHealthEndpointIPs() throws {
        let cluster = try ClusterFixture(nodes: 2)
        defer { cluster.down() }
        // From inside node-1 (never from the host namespace) to node-2's node and endpoint IPs.
        for (ip, path, code) in [("198.18.0.12", "/hello", "200"), ("198.19.2.2", "/hello", "200"),
                                 ("198.18.0.12", "/status", "404"), ("198.19.2.2", "/", "404")] {
            let r = try cluster.agent(["cluster", "exec", "--name", cluster.name, "node-1", "--",
                                       "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                                       "http://\(ip):4240\(path)"])
            XCTAssertEqual(r.stdout, code, "\(ip)\(path): \(r.stderr)")
        }
    }

    func testAgentAPIServesNodeDiffs() async throws {
        let cluster = try ClusterFixture(nodes: 3)
        defer { cluster.down() }
        let socket = cluster.layout.agentSocket("node-1")
        func get(_ id: Int64) throws -> ClusterNodeStatus {
            let r = try Command.run(["curl", "-sS", "--max-time", "5", "--unix-socket", socket,
                                     "http://agent/v1/cluster/nodes?client-id=\(id)"])
            return try JSONDecoder().decode(ClusterNodeStatus.self, from: Data(r.stdout.utf8))
        }
        let full = try get(0)
        XCTAssertNotEqual(full.clientID, 0)
        XCTAssertEqual(full.self_, "\(cluster.name)/node-1")
        XCTAssertEqual(full.nodesAdded?.map(\.name), (1...3).map { "\(cluster.name)/node-\($0)" })
        XCTAssertEqual(full.nodesAdded?.first?.healthEndpointAddress?.ipv4?.ip, "198.19.1.2")
        let noChange = try get(full.clientID)
        XCTAssertEqual(noChange.clientID, full.clientID)
        XCTAssertNil(noChange.nodesAdded)
        XCTAssertNil(noChange.nodesRemoved)
        let other = try get(0)
        XCTAssertNotEqual(other.clientID, full.clientID)
        XCTAssertEqual(other.nodesAdded?.count, 3)
    }
}
