import Agent
import Foundation
import HealthAPI
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

        let resize = try cluster.agent(["cluster", "up", "--name", cluster.name, "--nodes", "3", "--no-kubernetes"])
        XCTAssertEqual(resize.status, 1)
        XCTAssertTrue(resize.stderr.contains("is up with 2 nodes"), resize.stderr)

        let list = try cluster.agent(["cluster", "list"])
        XCTAssertTrue(list.stdout.contains(cluster.name), list.stdout)
        XCTAssertTrue(list.stdout.contains("2/2 running"), list.stdout)
    }

    func testDownCleansUpAfterAgentsCrashed() throws {
        let cluster = try ClusterFixture(nodes: 2)
        defer { cluster.down() }
        // Simulate a crash: agents die without cleaning up their health endpoints.
        for node in ["node-1", "node-2"] {
            if let pid = DetachedProcess.readPidfile(cluster.layout.agentPidfile(node)) { kill(pid, SIGKILL) }
        }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertFalse(cluster.footprint().namespaces.isEmpty)
        // A damaged cluster is rebuilt by `up`, not reported as up.
        let up = try cluster.agent(["cluster", "up", "--name", cluster.name, "--nodes", "2", "--probe-ratio", "0", "--no-kubernetes"])
        XCTAssertEqual(up.status, 0, up.stderr)
        XCTAssertTrue(up.stdout.contains("damaged"), up.stdout)
        XCTAssertEqual(try cluster.status(probe: true).nodes.count, 2)
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
